//! The web UI: server-rendered pages in zh-CN and English, every asset inside the binary.
//!
//! Pages are drawn from what the API's own functions answer for the signed-in user
//! ([`api::case_list`], [`api::case_detail`], [`api::region_report`]), so a page can show nothing
//! the API would not. Every change (log-in, log-out, lifecycle steps, notes, assignments,
//! inspections, evidence uploads) is a call to the REST API made by `assets/app.js` with the
//! session's CSRF secret; the UI has no write path of its own.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minewatch_present::html::{esc, minute};
use minewatch_store::cases::{self, STATES, State as CaseState};
use minewatch_store::users::{self, User};
use minewatch_store::{report, time};
use serde::Deserialize;

use crate::api::{self, CaseQuery, DEPARTMENTS};
use crate::auth::{self, session_cookie};
use crate::{ApiError, AppState, access};

/// The page script: the UI's only way to change anything is through the API.
const APP_JS: &str = include_str!("../assets/app.js");

use minewatch_model::lang::Lang;

const LANG_COOKIE: &str = "mw_lang";

fn lang_of(headers: &HeaderMap) -> Lang {
    match auth::cookie(headers, LANG_COOKIE).as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// The string catalogue: key → (English, 简体中文).
fn t(lang: Lang, key: &str) -> &'static str {
    let (en, zh) = match key {
        "title" => ("minewatch", "矿机监测"),
        "dashboard" => ("Dashboard", "总览"),
        "cases" => ("Cases", "案件"),
        "logout" => ("Log out", "退出"),
        "login" => ("Log in", "登录"),
        "name" => ("Name", "用户名"),
        "password" => ("Password", "密码"),
        "bad_login" => ("Wrong name or password.", "用户名或密码错误。"),
        "change_password" => ("Change your password", "修改密码"),
        "one_time" => (
            "Your password is a one-time password: choose your own (at least 12 characters), then log in with it.",
            "当前密码为一次性密码：请设置新密码（至少 12 个字符），然后用新密码登录。",
        ),
        "old_password" => ("Current password", "当前密码"),
        "new_password" => ("New password", "新密码"),
        "bad_password" => (
            "Not changed: check the current password; the new one needs 12 characters and must differ.",
            "未修改：请检查当前密码；新密码至少 12 个字符且不能与旧密码相同。",
        ),
        "too_many" => (
            "Too many failed attempts; wait five minutes.",
            "失败次数过多，请五分钟后再试。",
        ),
        "region" => ("Region", "地区"),
        "open" => ("Open cases", "未结案件"),
        "power" => ("Mining power (kW)", "挖矿负荷（千瓦）"),
        "range" => ("Range", "区间"),
        "peak" => ("Peak month", "峰值月份"),
        "vs_peak" => ("vs peak", "较峰值"),
        "cleared" => ("Cleared", "清零"),
        "yes" => ("yes", "是"),
        "no" => ("no", "否"),
        "state" => ("State", "状态"),
        "all" => ("all", "全部"),
        "stream" => ("Stream", "线索来源"),
        "min_conf" => ("Min. confidence", "最低置信度"),
        "filter" => ("Filter", "筛选"),
        "case" => ("Case", "案件"),
        "site" => ("Site", "场所"),
        "address" => ("Address", "地址"),
        "confidence" => ("Confidence", "置信度"),
        "first_seen" => ("First seen", "首次发现"),
        "last_seen" => ("Last seen", "最近发现"),
        "evidence" => ("Evidence", "证据"),
        "history" => ("History", "处置记录"),
        "notes" => ("Notes", "备注"),
        "add_note" => ("Add note", "添加备注"),
        "advance" => ("Move to", "变更状态为"),
        "reason" => ("Reason", "原因"),
        "save" => ("Save", "保存"),
        "prev" => ("Previous", "上一页"),
        "next" => ("Next", "下一页"),
        "documents" => ("Documents", "文书"),
        "notice" => ("Rectification notice", "整改通知书"),
        "inspection" => ("Inspection sheet", "现场检查记录表"),
        "sessions" => ("Network sessions", "网络会话"),
        "surcharge" => ("Surcharge", "加价电费"),
        "energy" => ("Energy per month (kWh)", "月用电量（千瓦时）"),
        "regions_map" => ("Regions", "地区分布"),
        "chart" => ("Mining power by month", "各月挖矿负荷"),
        "as_of" => ("as of", "截至"),
        "pool" => ("Pool", "矿池"),
        "coin" => ("Coin", "币种"),
        "worker" => ("Worker", "矿工名"),
        "wallet" => ("Wallet", "钱包"),
        "hashrate" => ("Hash rate", "算力"),
        "time" => ("Time", "时间"),
        "source" => ("Source", "来源"),
        "finding" => ("Finding", "内容"),
        "who" => ("Who", "操作人"),
        "lang_other" => ("中文", "English"),
        "department" => ("Department", "部门"),
        "by_state" => ("Cases by state", "各状态案件"),
        "load_curve" => (
            "Daily energy of the meter (red: the step)",
            "电表日用电量（红线：负荷阶跃）",
        ),
        "assign" => ("Assign to", "移交"),
        "mining_found" => ("Mining found", "是否发现挖矿"),
        "machines" => ("Machines", "矿机数量"),
        "measured_kw" => ("Measured kW", "实测负荷"),
        "inspections" => ("Inspections", "现场检查"),
        "upload" => ("Upload evidence", "上传证据"),
        "upload_help" => (
            "JSON lines from minewatch scan, power scan or chain trace, or meter readings as CSV \
             (meter_id,timestamp,kwh or one column per day), scored against the registry's sites.",
            "minewatch scan、power scan 或 chain trace 输出的 JSON 行文件，或电表读数 CSV\
             （meter_id,timestamp,kwh 或每日一列），按登记的场所信息评分。",
        ),
        "money_trail" => (
            "Money trail: pools that paid the wallets, entities their coins reached",
            "资金流向：向钱包付款的矿池，及资金流入的已标记实体",
        ),
        "uploaded" => ("Imported", "已导入"),
        "too_large" => (
            "The file is larger than 64 MiB: hand it in with `minewatch ingest`.",
            "文件超过 64 MiB，请使用 minewatch ingest 导入。",
        ),
        "none" => ("None.", "无。"),
        "probes" => (
            "Servers asked: what the suspected servers answered to a miner's opening",
            "服务器探测：被怀疑的服务器对矿工握手请求的应答",
        ),
        "server" => ("Server", "服务器"),
        "protocol" => ("Transport · dialect · coin", "传输 · 协议 · 币种"),
        "verdict" => ("Verdict", "结论"),
        "answer" => ("Answer", "应答"),
        "until" => ("Stands until", "有效期至"),
        "v_pool" => ("a pool", "矿池"),
        "v_not_pool" => ("not a pool", "非矿池"),
        "v_unreachable" => ("unreachable", "无法连接"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

const STYLE: &str = "*{box-sizing:border-box}body{font-family:'Noto Sans CJK SC','Microsoft YaHei',\
system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}header{background:#1d3557;color:#fff;\
padding:.6em 1em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}header a{color:#fff;\
text-decoration:none}header .me{margin-left:auto;opacity:.85}main{padding:1em;max-width:1200px;margin:auto}\
table{border-collapse:collapse;width:100%;background:#fff;margin:.5em 0 1.2em}th,td{border-bottom:1px solid \
#dde1e6;padding:.4em .5em;text-align:left;font-size:.92em;vertical-align:top}th{background:#eef1f5}\
.num{text-align:right;font-variant-numeric:tabular-nums}.card{background:#fff;border:1px solid #dde1e6;\
border-radius:6px;padding:1em;margin-bottom:1em}.tiles{display:flex;flex-wrap:wrap;gap:.5em}.tile{padding:\
.6em .8em;border-radius:4px;min-width:9em;color:#fff}form.inline{display:flex;gap:.5em;flex-wrap:wrap;\
align-items:end}label{display:flex;flex-direction:column;font-size:.85em;gap:.2em}input,select,textarea,\
button{font:inherit;padding:.35em .5em}button{background:#1d3557;color:#fff;border:0;border-radius:4px;\
cursor:pointer}.err{color:#b00020}.badge{padding:.1em .45em;border-radius:3px;background:#e9ecef;font-size:\
.85em}svg{max-width:100%;height:auto}td{overflow-wrap:anywhere}textarea,input,select{max-width:100%}\
@media (max-width:700px){td,th{font-size:.8em}.hide-s{display:none}}";

/// A page; `who` is the signed-in user and the session's CSRF secret, which the page script
/// sends with every change.
fn page(lang: Lang, who: Option<(&User, &str)>, title: &str, body: &str) -> Html<String> {
    let (nav, csrf) = match who {
        Some((u, csrf)) => (
            format!(
                "<a href=\"/\">{}</a><a href=\"/cases\">{}</a><a href=\"/upload\">{}</a><span class=\"me\">{} · {}{}</span>\
             <form id=\"logout-form\" data-api=\"/api/v1/logout\" data-then=\"/login\" style=\"margin:0\"><button id=\"logout\">{}</button></form>",
                t(lang, "dashboard"),
                t(lang, "cases"),
                t(lang, "upload"),
                esc(&u.name),
                u.role.name(),
                if u.region.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", esc(&u.region))
                },
                t(lang, "logout"),
            ),
            format!("<meta name=\"csrf\" content=\"{}\">", esc(csrf)),
        ),
        None => (String::new(), String::new()),
    };
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    Html(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\">{csrf}<title>{} · {}</title><style>{STYLE}</style>\
         <script src=\"/assets/app.js\" defer></script></head>\
         <body><header><strong>{}</strong>{nav}<a id=\"lang\" href=\"/lang/{other}\">{}</a></header><main>{body}</main></body></html>",
        if lang == Lang::Zh { "zh-CN" } else { "en" },
        esc(title),
        t(lang, "title"),
        t(lang, "title"),
        t(lang, "lang_other"),
    ))
}

/// The signed-in user of a page request, or a redirect to the log-in page.
async fn viewer(s: &AppState, headers: &HeaderMap) -> Result<(User, String), Response> {
    let Some(token) = session_cookie(headers) else {
        return Err(Redirect::to("/login").into_response());
    };
    let now = time::now();
    match s.db(move |c| users::session(c, &token, now)).await {
        Ok(Some(found)) if found.0.must_change_password => {
            Err(Redirect::to("/password").into_response())
        }
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// The UI routes.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_form))
        .route("/lang/{lang}", get(set_lang))
        .route("/cases", get(case_list))
        .route("/cases/{id}", get(case_page))
        .route("/upload", get(upload_form))
        .route("/password", get(password_form))
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    APP_JS,
                )
            }),
        )
}

/// Where to go back to after switching the language: the Referer's path on this server, and
/// only a path: one that a browser would read as another host (`//evil.example/`,
/// `/\\evil.example`) or that carries anything but printable ASCII becomes `/`.
pub fn back_to(referer: &str) -> String {
    let path = referer
        .find("://")
        .and_then(|i| {
            let rest = referer.get(i + 3..)?;
            rest.find('/').and_then(|j| rest.get(j..))
        })
        .unwrap_or("/");
    let same_origin = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.bytes().all(|b| b.is_ascii_graphic());
    if same_origin {
        path.to_string()
    } else {
        "/".into()
    }
}

async fn set_lang(Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "/".into(), back_to);
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={value}; Path=/; SameSite=Strict; Max-Age=31536000"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

async fn login_form(headers: HeaderMap) -> Html<String> {
    let lang = lang_of(&headers);
    page(
        lang,
        None,
        t(lang, "login"),
        &format!(
            "<div class=\"card\" style=\"max-width:24em;margin:3em auto\"><h2>{}</h2>\
             <form id=\"login\" data-api=\"/api/v1/login\" data-then=\"/\" data-e400=\"{bad}\" data-e401=\"{bad}\" data-e429=\"{}\" \
             class=\"inline\" style=\"flex-direction:column;align-items:stretch\">\
             <label>{}<input name=\"name\" id=\"name\" autocomplete=\"username\" required></label>\
             <label>{}<input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button id=\"submit\">{}</button></form></div>",
            t(lang, "login"),
            t(lang, "too_many"),
            t(lang, "name"),
            t(lang, "password"),
            t(lang, "login"),
            bad = t(lang, "bad_login"),
        ),
    )
}

/// A state's name in the page's language.
fn state_label(lang: Lang, name: &str) -> &str {
    match CaseState::parse(name) {
        Some(st) if lang == Lang::Zh => st.name_zh(),
        Some(st) => st.name(),
        None => name,
    }
}

fn tile_color(kw: f64, peak: f64) -> &'static str {
    match (kw, peak) {
        (k, _) if k <= 0.0 => "#2a9d8f",
        (k, p) if p > 0.0 && k < p * 0.5 => "#e9c46a",
        _ => "#e63946",
    }
}

async fn dashboard(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rep = match api::region_report(&s, &user, None).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let top: Vec<&report::RegionRow> = rep
        .regions
        .iter()
        .filter(|r| {
            r.level
                == rep
                    .regions
                    .first()
                    .map_or(report::Level::Province, |f| f.level)
        })
        .collect();
    let chart = minewatch_present::chart::chart_svg_string(&rep, &top).unwrap_or_default();
    let mut tiles = String::new();
    for r in &top {
        tiles += &format!(
            "<a class=\"tile\" style=\"background:{}\" href=\"/cases?region={}\"><strong>{} {}</strong><br>{} {} · {:.0} kW</a>",
            tile_color(r.power_kw, r.peak_kw),
            esc(&r.code),
            esc(&r.code),
            esc(if lang == Lang::Zh {
                &r.name_zh
            } else {
                &r.name_en
            }),
            r.open_cases,
            t(lang, "open"),
            r.power_kw
        );
    }
    let mut rows = String::new();
    for r in &rep.regions {
        let name = if lang == Lang::Zh {
            &r.name_zh
        } else {
            &r.name_en
        };
        let by_state: Vec<String> = STATES
            .iter()
            .filter_map(|st| {
                let n = r.cases.get(st.name()).copied().unwrap_or(0);
                (n > 0).then(|| {
                    format!(
                        "<a href=\"/cases?region={}&state={}\">{} {n}</a>",
                        esc(&r.code),
                        st.name(),
                        if lang == Lang::Zh {
                            st.name_zh()
                        } else {
                            st.name()
                        }
                    )
                })
            })
            .collect();
        rows += &format!(
            "<tr><td><a href=\"/cases?region={code}\">{code}</a> {}</td><td class=\"num\">{}</td><td class=\"hide-s\">{}</td><td class=\"num\">{:.1}</td>\
             <td class=\"num hide-s\">{:.1}–{:.1}</td><td class=\"hide-s\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(name),
            r.open_cases,
            by_state.join(" · "),
            r.power_kw,
            r.power_kw_low,
            r.power_kw_high,
            esc(r.peak_month.as_deref().unwrap_or("")),
            r.change_vs_peak
                .map(|c| format!("{:+.0}%", c * 100.0))
                .unwrap_or_default(),
            if r.cleared {
                t(lang, "yes")
            } else {
                t(lang, "no")
            },
            code = esc(&r.code),
        );
    }
    let body = format!(
        "<h2>{} <small class=\"badge\">{} {}</small></h2>\
         <div class=\"card\"><h3>{}</h3><div class=\"tiles\" id=\"map\">{tiles}</div></div>\
         <div class=\"card\" id=\"chart\"><h3>{}</h3>{chart}</div>\
         <table id=\"regions\"><tr><th>{}</th><th class=\"num\">{}</th><th class=\"hide-s\">{}</th><th class=\"num\">{}</th><th class=\"hide-s\">{}</th>\
         <th class=\"hide-s\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>{rows}</table>",
        t(lang, "dashboard"),
        t(lang, "as_of"),
        esc(&rep.as_of[..10.min(rep.as_of.len())]),
        t(lang, "regions_map"),
        t(lang, "chart"),
        t(lang, "region"),
        t(lang, "open"),
        t(lang, "by_state"),
        t(lang, "power"),
        t(lang, "range"),
        t(lang, "peak"),
        t(lang, "vs_peak"),
        t(lang, "cleared"),
    );
    page(lang, Some((&user, &csrf)), t(lang, "dashboard"), &body).into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    region: Option<String>,
    stream: Option<String>,
    min_confidence: Option<String>,
    department: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 25;

async fn case_list(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The form sends every field, empty ones as "": those mean "any".
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let min_conf = match given(&q.min_confidence).map(|m| m.parse::<f64>()) {
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => {
            return ApiError::BadRequest("min_confidence must be a number".into()).into_response();
        }
        None => None,
    };
    let page_no = q.page.unwrap_or(0).max(0);
    let query = CaseQuery {
        state: given(&q.state),
        region: given(&q.region),
        stream: given(&q.stream),
        min_confidence: min_conf,
        department: given(&q.department),
        limit: Some(PAGE_SIZE),
        offset: Some(page_no * PAGE_SIZE),
        sort: given(&q.sort),
    };
    let found = match api::case_list(&s, &user, &query).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let (shown, total) = (found.cases, found.total);
    let state = query.state.as_deref().and_then(CaseState::parse);
    let region_asked = query.region.as_deref();
    let stream = query.stream.as_deref();
    let department = query.department.clone();
    let sort = query.sort.clone().unwrap_or_default();
    let opt = |v: &str, cur: Option<&str>, label: &str| {
        format!(
            "<option value=\"{v}\"{}>{}</option>",
            if cur == Some(v) { " selected" } else { "" },
            esc(label)
        )
    };
    let mut states = opt("", None, t(lang, "all"));
    for st in STATES {
        states += &opt(
            st.name(),
            state.map(|s| s.name()),
            if lang == Lang::Zh {
                st.name_zh()
            } else {
                st.name()
            },
        );
    }
    let mut departments = opt("", None, t(lang, "all"));
    for d in DEPARTMENTS {
        departments += &opt(d, department.as_deref(), d);
    }
    let mut streams = opt("", None, t(lang, "all"));
    for st in ["network", "grid", "chain"] {
        streams += &opt(st, stream, st);
    }
    let keep = format!(
        "state={}&region={}&stream={}&min_confidence={}&department={}",
        state.map(|s| s.name()).unwrap_or(""),
        esc(region_asked.unwrap_or("")),
        stream.unwrap_or(""),
        min_conf.map(|m| m.to_string()).unwrap_or_default(),
        department.as_deref().unwrap_or("")
    );
    let head =
        |key: &str, label: &str| format!("<a href=\"/cases?{keep}&sort={key}\">{}</a>", esc(label));
    let mut rows = String::new();
    for c in &shown {
        rows += &format!(
            "<tr><td><a class=\"case-link\" href=\"/cases/{id}\">{id}</a></td><td>{}</td><td><span class=\"badge\">{}</span></td>\
             <td>{}</td><td class=\"hide-s\">{}</td><td>{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.1}</td><td class=\"hide-s\">{}</td></tr>",
            esc(&c.site_id),
            state_label(lang, &c.state),
            esc(&c.region_code),
            esc(c.address.as_deref().unwrap_or_default()),
            esc(&c.streams.join("+")),
            c.confidence,
            c.power_kw,
            esc(&c.first_seen.clone().unwrap_or_default()
                [..10.min(c.first_seen.as_deref().unwrap_or("").len())]),
            id = c.case_id,
        );
    }
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let mut nav = String::new();
    if page_no > 0 {
        nav += &format!(
            "<a href=\"/cases?{keep}&sort={}&page={}\">{}</a> ",
            esc(&sort),
            page_no - 1,
            t(lang, "prev")
        );
    }
    nav += &format!("{} / {} ", page_no + 1, pages.max(1));
    if page_no + 1 < pages {
        nav += &format!(
            "<a id=\"next\" href=\"/cases?{keep}&sort={}&page={}\">{}</a>",
            esc(&sort),
            page_no + 1,
            t(lang, "next")
        );
    }
    let body = format!(
        "<h2>{} <small class=\"badge\" id=\"total\">{total}</small></h2>\
         <form class=\"inline card\" method=\"get\" action=\"/cases\" id=\"filters\">\
         <label>{}<select name=\"state\" id=\"f-state\">{states}</select></label>\
         <label>{}<input name=\"region\" id=\"f-region\" value=\"{}\" size=\"8\"></label>\
         <label>{}<select name=\"stream\">{streams}</select></label>\
         <label>{}<select name=\"department\" id=\"f-department\">{departments}</select></label>\
         <label>{}<input name=\"min_confidence\" value=\"{}\" size=\"5\"></label>\
         <button id=\"apply\">{}</button></form>\
         <table id=\"case-table\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th>{}</th>\
         <th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"hide-s\">{}</th></tr>{rows}</table><p>{nav}</p>",
        t(lang, "cases"),
        t(lang, "state"),
        t(lang, "region"),
        esc(region_asked.unwrap_or("")),
        t(lang, "stream"),
        t(lang, "department"),
        t(lang, "min_conf"),
        min_conf.map(|m| m.to_string()).unwrap_or_default(),
        t(lang, "filter"),
        head("case", t(lang, "case")),
        t(lang, "site"),
        t(lang, "state"),
        t(lang, "region"),
        t(lang, "address"),
        t(lang, "stream"),
        head("confidence", t(lang, "confidence")),
        head("power", t(lang, "power")),
        head("first_seen", t(lang, "first_seen")),
    );
    page(lang, Some((&user, &csrf)), t(lang, "cases"), &body).into_response()
}

async fn case_page(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let d = match api::case_detail(&s, &user, id, "ui").await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let role = user.role;
    let case = &d.case;
    let state = CaseState::parse(&case.state);
    let (ev_rows, sessions) = evidence_rows(role, &d);
    let hist = history_rows(&d.history);
    let note_list = notes_html(lang, &d.notes);
    let inspection_rows = inspection_rows(lang, &d.inspections);
    let curve_html = curve_card(lang, d.load_curve.as_ref());
    let trail_html = trail_card(lang, &d.money_trail);
    let probes_html = probes_card(lang, &d.probes);
    let actions = action_forms(lang, role, id, state);
    let surcharge_html = surcharge_line(lang, d.surcharge.as_ref());
    let documents = document_links(lang, role, id);
    let body = format!(
        "<h2>{} {id} · <span id=\"state\" class=\"badge\">{}</span></h2>\
         <div class=\"card\"><table><tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td><th>{}</th><td>{:.2} ({})</td></tr>\
         <tr><th>{}</th><td>{:.1} ({:.1}–{:.1})</td><th>{}</th><td>{:.0}</td></tr>\
         <tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr></table>{surcharge_html}{documents}</div>\
         {curve_html}{trail_html}{probes_html}{actions}<h3>{}</h3><table id=\"history\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{hist}</table>\
         <h3>{}</h3><table id=\"evidence\"><tr><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>{ev_rows}</table>\
         <h3>{}</h3><table id=\"sessions\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th class=\"num\">{}</th></tr>{sessions}</table>\
         <h3>{}</h3><div class=\"card\">{note_list}</div>\
         <h3>{}</h3><table id=\"inspections\"><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>{inspection_rows}</table>",
        t(lang, "case"),
        state_label(lang, &case.state),
        t(lang, "site"),
        esc(&case.site_id),
        t(lang, "address"),
        esc(case.address.as_deref().unwrap_or_default()),
        t(lang, "region"),
        esc(&case.region_code),
        t(lang, "confidence"),
        case.confidence,
        esc(&case.streams.join("+")),
        t(lang, "power"),
        case.power_kw,
        case.power_kw_low,
        case.power_kw_high,
        t(lang, "energy"),
        case.energy_kwh_month,
        t(lang, "first_seen"),
        esc(case.first_seen.as_deref().unwrap_or("")),
        t(lang, "last_seen"),
        esc(case.last_seen.as_deref().unwrap_or("")),
        t(lang, "history"),
        t(lang, "time"),
        t(lang, "who"),
        t(lang, "state"),
        t(lang, "reason"),
        t(lang, "evidence"),
        t(lang, "time"),
        t(lang, "source"),
        t(lang, "site"),
        t(lang, "confidence"),
        t(lang, "finding"),
        t(lang, "sessions"),
        t(lang, "time"),
        t(lang, "pool"),
        t(lang, "coin"),
        t(lang, "worker"),
        t(lang, "wallet"),
        t(lang, "hashrate"),
        t(lang, "notes"),
        t(lang, "inspections"),
        t(lang, "time"),
        t(lang, "who"),
        t(lang, "mining_found"),
        t(lang, "machines"),
        t(lang, "measured_kw"),
        t(lang, "notes"),
    );
    page(
        lang,
        Some((&user, &csrf)),
        &format!("{} {id}", t(lang, "case")),
        &body,
    )
    .into_response()
}

/// A case's evidence rows, and the rows of its mining sessions for roles that see subjects.
fn evidence_rows(role: users::Role, d: &api::CaseDetail) -> (String, String) {
    let mut ev_rows = String::new();
    let mut sessions = String::new();
    for e in &d.evidence {
        ev_rows += &format!(
            "<tr><td>{}</td><td>{} / {}</td><td class=\"hide-s\">{}</td><td class=\"num\">{:.2}</td><td>{}</td></tr>",
            minute(&e.observed_from),
            esc(&e.department),
            esc(&e.detector),
            esc(&e.subject),
            e.confidence,
            esc(&e.summary)
        );
        if e.stream == "network" && access::sees_subjects(role) {
            let wallet = e.wallet.as_deref().unwrap_or("");
            sessions += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hide-s\">{}</td><td class=\"num\">{}</td></tr>",
                minute(&e.observed_from),
                esc(e.pool.as_deref().unwrap_or("")),
                esc(e.coin.as_deref().unwrap_or("")),
                esc(e.worker.as_deref().unwrap_or("")),
                // A wallet the money trail follows links to it.
                if d.money_trail.iter().any(|t| t.wallet == wallet) {
                    format!("<a href=\"#money-trail\">{}</a>", esc(wallet))
                } else {
                    esc(wallet)
                },
                e.hashrate_hs
                    .map(|h| minewatch_model::HashRate(h).to_string())
                    .unwrap_or_default()
            );
        }
    }
    (ev_rows, sessions)
}

/// The rows of a case's history.
fn history_rows(history: &[cases::Event]) -> String {
    let mut hist = String::new();
    for h in history {
        hist += &format!(
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            minute(&h.at),
            esc(&h.actor),
            esc(h.from.as_deref().unwrap_or("-")),
            esc(&h.to),
            esc(&h.reason)
        );
    }
    hist
}

/// A case's notes, or "none".
fn notes_html(lang: Lang, notes: &[users::Note]) -> String {
    if notes.is_empty() {
        format!("<p>{}</p>", t(lang, "none"))
    } else {
        notes
            .iter()
            .map(|n| {
                format!(
                    "<p><strong>{}</strong> {}<br>{}</p>",
                    esc(&n.author),
                    minute(&n.at),
                    esc(&n.text)
                )
            })
            .collect()
    }
}

/// The rows of a case's inspections.
fn inspection_rows(lang: Lang, inspections: &[users::Inspection]) -> String {
    inspections
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                minute(&i.at),
                esc(&i.inspector),
                if i.mining { t(lang, "yes") } else { t(lang, "no") },
                i.machines.map(|m| m.to_string()).unwrap_or_default(),
                i.measured_kw.map(|k| format!("{k:.1}")).unwrap_or_default(),
                esc(&i.notes)
            )
        })
        .collect()
}

/// The meter's daily energy as a chart with its onset, when the case has a meter.
fn curve_card(lang: Lang, lc: Option<&api::LoadCurveView>) -> String {
    lc.and_then(|lc| {
        let start = time::parse_date(&lc.start)?;
        let onset = lc.onset.as_deref().and_then(time::parse_date);
        minewatch_present::chart::load_curve_svg(start, &lc.daily_kwh, onset).ok()
    })
    .map(|svg| {
        format!(
            "<div class=\"card\" id=\"load-curve\"><h3>{}</h3>{svg}</div>",
            t(lang, "load_curve")
        )
    })
    .unwrap_or_default()
}

/// The money trail as a chart, when the case has one.
fn trail_card(lang: Lang, trail: &[cases::TrailStep]) -> String {
    if trail.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"card\" id=\"money-trail\"><h3>{}</h3>{}</div>",
            t(lang, "money_trail"),
            trail_svg(trail)
        )
    }
}

/// The surcharge in force, worked out, when a rule applies.
fn surcharge_line(
    lang: Lang,
    surcharge: Option<&minewatch_store::penalties::Assessment>,
) -> String {
    surcharge
        .map(|p| format!(
            "<p><strong>{}</strong>: {:.2} {} = {:.0} kWh × {:.2}/kWh, {} – {} <small>({})</small></p>",
            t(lang, "surcharge"), p.amount, esc(&p.rule.currency), p.energy_kwh, p.rule.surcharge_per_kwh, esc(&p.from), esc(&p.to), esc(&p.rule.source)
        ))
        .unwrap_or_default()
}

/// Links to the case's documents, for roles that may see the site's address.
fn document_links(lang: Lang, role: users::Role, id: i64) -> String {
    let doc_lang = if lang == Lang::Zh { "zh" } else { "en" };
    if access::sees_address(role) {
        format!(
            "<p>{}: <a href=\"/api/v1/cases/{id}/documents/notice?lang={doc_lang}\">{}</a> · <a href=\"/api/v1/cases/{id}/documents/inspection?lang={doc_lang}\">{}</a></p>",
            t(lang, "documents"),
            t(lang, "notice"),
            t(lang, "inspection"),
        )
    } else {
        String::new()
    }
}

/// The servers asked for a case: verdict, dialect and coin, and the answer's excerpt, which is
/// the pool's own word; empty when none was asked.
fn probes_card(lang: Lang, probes: &[minewatch_store::probes::ProbeRecord]) -> String {
    if probes.is_empty() {
        return String::new();
    }
    let rows: String = probes
        .iter()
        .map(|p| {
            let verdict = match p.verdict.as_str() {
                "pool" => t(lang, "v_pool"),
                "not-pool" => t(lang, "v_not_pool"),
                _ => t(lang, "v_unreachable"),
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hide-s\"><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&p.target),
                verdict,
                esc(&[p.transport.as_deref(), p.dialect.as_deref(), p.coin.as_deref()]
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · ")),
                esc(&p.reason),
                esc(&p.answer),
                esc(&time::format_instant(p.probed_at)),
                esc(&time::format_instant(p.expires_at)),
            )
        })
        .collect();
    format!(
        "<div class=\"card\" id=\"probes\"><h3>{}</h3><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th>{}</th><th>{}</th></tr>{rows}</table></div>",
        t(lang, "probes"),
        t(lang, "server"),
        t(lang, "verdict"),
        t(lang, "protocol"),
        t(lang, "reason"),
        t(lang, "answer"),
        t(lang, "time"),
        t(lang, "until"),
    )
}

/// The forms of the changes `role` may make to case `id`; each posts JSON to its API endpoint.
fn action_forms(lang: Lang, role: users::Role, id: i64, state: Option<CaseState>) -> String {
    let mut actions = String::new();
    let next = state.map(|s| s.next()).unwrap_or_default();
    if access::may_advance(role) && !next.is_empty() {
        let opts: String = next
            .iter()
            .map(|s| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    s.name(),
                    state_label(lang, s.name())
                )
            })
            .collect();
        actions += &format!(
            "<form class=\"inline card\" data-api=\"/api/v1/cases/{id}/advance\" id=\"advance\">\
             <label>{}<select name=\"to\" id=\"to\">{opts}</select></label>\
             <label>{}<input name=\"reason\" id=\"reason\" required maxlength=\"2000\" size=\"40\"></label><button id=\"do-advance\">{}</button></form>",
            t(lang, "advance"),
            t(lang, "reason"),
            t(lang, "save")
        );
    }
    if access::may_assign(role) {
        actions += &format!(
            "<form class=\"inline card\" data-api=\"/api/v1/cases/{id}/assign\" id=\"assign\">\
             <label>{}<select name=\"to\">{}</select></label><button>{}</button></form>",
            t(lang, "assign"),
            DEPARTMENTS[..4]
                .iter()
                .map(|d| format!("<option value=\"{d}\">{d}</option>"))
                .collect::<String>(),
            t(lang, "save")
        );
    }
    if access::may_advance(role) {
        actions += &format!(
            "<form class=\"inline card\" data-api=\"/api/v1/cases/{id}/inspections\" id=\"inspection\">\
             <label>{}<select name=\"mining\" data-type=\"bool\"><option value=\"true\">{}</option><option value=\"false\">{}</option></select></label>\
             <label>{}<input name=\"machines\" data-type=\"int\" type=\"number\" min=\"0\" size=\"5\"></label>\
             <label>{}<input name=\"measured_kw\" data-type=\"number\" type=\"number\" min=\"0\" step=\"0.1\" size=\"6\"></label>\
             <label>{}<input name=\"notes\" size=\"30\"></label><button>{}</button></form>",
            t(lang, "mining_found"),
            t(lang, "yes"),
            t(lang, "no"),
            t(lang, "machines"),
            t(lang, "measured_kw"),
            t(lang, "notes"),
            t(lang, "save")
        );
    }
    if access::may_annotate(role) {
        actions += &format!(
            "<form class=\"inline card\" data-api=\"/api/v1/cases/{id}/notes\" id=\"note\">\
             <label>{}<textarea name=\"text\" rows=\"2\" cols=\"50\" required maxlength=\"10000\"></textarea></label>\
             <button>{}</button></form>",
            t(lang, "add_note"),
            t(lang, "save")
        );
    }
    actions
}

/// The money trail as a drawing: the pools that paid the case's wallets on the left, the
/// wallets in the middle, the tagged entities their coins reached on the right; each arrow
/// carries the coins it sums.
fn trail_svg(steps: &[cases::TrailStep]) -> String {
    use std::collections::BTreeMap;
    // (party, wallet) -> (coins, transfers, nearest hop)
    let mut inflows: BTreeMap<(String, String), (i64, usize)> = BTreeMap::new();
    let mut outflows: BTreeMap<(String, String), (i64, usize, i64, String)> = BTreeMap::new();
    for st in steps {
        if st.inflow {
            let e = inflows
                .entry((st.party.clone(), st.wallet.clone()))
                .or_default();
            e.0 += st.value_sat;
            e.1 += 1;
        } else {
            let e = outflows
                .entry((st.party.clone(), st.wallet.clone()))
                .or_insert((0, 0, i64::MAX, st.category.clone().unwrap_or_default()));
            e.0 += st.value_sat;
            e.1 += 1;
            e.2 = e.2.min(st.hop);
        }
    }
    let column = |names: Vec<&String>| {
        let mut v: Vec<String> = names.into_iter().cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    let pools = column(inflows.keys().map(|k| &k.0).collect());
    let wallets = column(steps.iter().map(|s| &s.wallet).collect());
    let entities = column(outflows.keys().map(|k| &k.0).collect());
    let rows = pools.len().max(wallets.len()).max(entities.len()).max(1);
    let (row_h, box_h, width) = (44.0, 30.0, 960.0);
    let height = rows as f64 * row_h + 20.0;
    let y = |i: usize, n: usize| {
        // Centre each column vertically.
        10.0 + (rows - n) as f64 * row_h / 2.0 + i as f64 * row_h
    };
    let cols = [(10.0, 200.0), (380.0, 200.0), (750.0, 200.0)];
    let coins = |sat: i64, n: usize| {
        let c = format!("{:.8}", sat as f64 / 1e8);
        let c = c.trim_end_matches('0').trim_end_matches('.');
        if n > 1 {
            format!("{c} ({n} tx)")
        } else {
            c.to_string()
        }
    };
    let shorten = |s: &str| {
        if s.chars().count() > 28 {
            let head: String = s.chars().take(12).collect();
            let tail: String = s
                .chars()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{head}…{tail}")
        } else {
            s.to_string()
        }
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" \
         font-size=\"12\" font-family=\"sans-serif\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker></defs>"
    );
    let node = |svg: &mut String,
                col: usize,
                i: usize,
                n: usize,
                text: &str,
                fill: &str,
                title: &str| {
        let (x, w) = cols.get(col).copied().unwrap_or_default();
        svg.push_str(&format!(
            "<g><title>{}</title><rect x=\"{x}\" y=\"{:.1}\" width=\"{w}\" height=\"{box_h}\" rx=\"4\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#fff\">{}</text></g>",
            esc(title),
            y(i, n),
            x + w / 2.0,
            y(i, n) + box_h / 2.0 + 4.0,
            esc(&shorten(text))
        ));
    };
    let edge = |svg: &mut String,
                from: (usize, usize, usize),
                to: (usize, usize, usize),
                label: &str| {
        let (x1, x2) = match (cols.get(from.0), cols.get(to.0)) {
            (Some(a), Some(b)) => (a.0 + a.1, b.0),
            _ => return,
        };
        let y1 = y(from.1, from.2) + box_h / 2.0;
        let y2 = y(to.1, to.2) + box_h / 2.0;
        svg.push_str(&format!(
            "<path d=\"M{x1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2},{y2:.1}\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1b1f24\">{}</text>",
            x1 + 60.0,
            x2 - 60.0,
            (x1 + x2) / 2.0,
            (y1 + y2) / 2.0 - 4.0,
            esc(label)
        ));
    };
    let at = |list: &[String], v: &str| list.iter().position(|x| x == v).unwrap_or(0);
    for ((pool, wallet), (sat, n)) in &inflows {
        edge(
            &mut svg,
            (0, at(&pools, pool), pools.len()),
            (1, at(&wallets, wallet), wallets.len()),
            &coins(*sat, *n),
        );
    }
    for ((entity, wallet), (sat, n, hop, _)) in &outflows {
        edge(
            &mut svg,
            (1, at(&wallets, wallet), wallets.len()),
            (2, at(&entities, entity), entities.len()),
            &format!("{}, hop {hop}", coins(*sat, *n)),
        );
    }
    for (i, p) in pools.iter().enumerate() {
        node(&mut svg, 0, i, pools.len(), p, "#2a9d8f", p);
    }
    for (i, w) in wallets.iter().enumerate() {
        node(&mut svg, 1, i, wallets.len(), w, "#1d3557", w);
    }
    for (i, e) in entities.iter().enumerate() {
        let category = outflows
            .iter()
            .find(|(k, _)| &k.0 == e)
            .map(|(_, v)| v.3.clone())
            .unwrap_or_default();
        let fill = if matches!(
            category.as_str(),
            "mixer" | "sanctioned" | "darknet" | "scam"
        ) {
            "#e63946"
        } else {
            "#6c757d"
        };
        node(
            &mut svg,
            2,
            i,
            entities.len(),
            &format!("{e} ({category})"),
            fill,
            e,
        );
    }
    svg.push_str("</svg>");
    svg
}

async fn upload_form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body = format!(
        "<h2>{}</h2><form class=\"card\" data-api=\"/api/v1/evidence\" data-then=\"report\" data-label=\"{}\" data-e413=\"{}\" id=\"upload\">\
         <p>{}</p><input type=\"file\" name=\"file\" id=\"file\" accept=\".jsonl,.json,.ndjson,.txt,.csv\" required> \
         <button id=\"do-upload\">{}</button></form>",
        t(lang, "upload"),
        t(lang, "uploaded"),
        t(lang, "too_large"),
        t(lang, "upload_help"),
        t(lang, "save")
    );
    page(lang, Some((&user, &csrf)), t(lang, "upload"), &body).into_response()
}

/// The change of one's own password: the only page a user with a one-time password reaches.
async fn password_form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let Some(token) = session_cookie(&headers) else {
        return Redirect::to("/login").into_response();
    };
    let now = time::now();
    let (user, csrf) = match s.db(move |c| users::session(c, &token, now)).await {
        Ok(Some(found)) => found,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return e.into_response(),
    };
    let body = format!(
        "<div class=\"card\" style=\"max-width:28em;margin:3em auto\"><h2>{}</h2><p>{}</p>\
         <form id=\"password-form\" data-api=\"/api/v1/password\" data-then=\"/login\" data-e400=\"{bad}\" data-e403=\"{bad}\" \
         class=\"inline\" style=\"flex-direction:column;align-items:stretch\">\
         <label>{}<input name=\"old\" id=\"old\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>{}<input name=\"new\" id=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\" required></label>\
         <button id=\"do-password\">{}</button></form></div>",
        t(lang, "change_password"),
        if user.must_change_password {
            t(lang, "one_time")
        } else {
            ""
        },
        t(lang, "old_password"),
        t(lang, "new_password"),
        t(lang, "save"),
        bad = t(lang, "bad_password"),
    );
    page(
        lang,
        Some((&user, &csrf)),
        t(lang, "change_password"),
        &body,
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The language switch goes back to a path on this server, never to another host.
    #[test]
    fn the_language_switch_never_redirects_off_site() {
        assert_eq!(back_to("https://mw.example/cases/7?x=1"), "/cases/7?x=1");
        assert_eq!(back_to("https://mw.example"), "/");
        for evil in [
            "https://mw.example//evil.example/",
            "https://mw.example/\\evil.example",
            "http://mw.example/%0d%0aSet-Cookie:x",
            "https://mw.example/a b",
            "//evil.example/",
            "javascript:alert(1)",
        ] {
            let b = back_to(evil);
            assert!(
                b == "/" || (b.starts_with('/') && !b.starts_with("//") && !b.contains('\\')),
                "{evil} -> {b}"
            );
        }
        assert_eq!(back_to("https://mw.example//evil.example/"), "/");
    }

    fn step(wallet: &str, inflow: bool, party: &str, sat: i64) -> cases::TrailStep {
        cases::TrailStep {
            wallet: wallet.into(),
            inflow,
            party: party.into(),
            category: (!inflow).then(|| "mixer".to_string()),
            hop: if inflow { -1 } else { 3 },
            value_sat: sat,
            txid: "t".into(),
            at: "2024-03-01T00:00:00+08:00".into(),
        }
    }

    #[test]
    fn the_trail_sums_per_pool_and_entity_and_escapes_labels() {
        let svg = trail_svg(&[
            step("bc1qa", true, "F2Pool", 100_000_000),
            step("bc1qa", true, "F2Pool", 50_000_000),
            step("bc1qb", true, "ViaBTC", 1),
            step("bc1qa", false, "<script>x</script>", 25_000_000),
        ]);
        // Three columns of boxes: two pools, two wallets, one entity.
        assert_eq!(svg.matches("<rect").count(), 5, "{svg}");
        // One arrow per (pool, wallet) and (wallet, entity): three.
        assert_eq!(svg.matches("marker-end").count(), 3, "{svg}");
        assert!(svg.contains(">1.5 (2 tx)<"), "{svg}");
        assert!(svg.contains(">0.25, hop 3<"), "{svg}");
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
        // A mixer is drawn in the warning colour.
        assert!(svg.contains("#e63946"));
    }
}
