//! The web UI: server-rendered pages in zh-CN and English, every asset inside the binary.
//!
//! Pages read through the same store functions and the same [`access`] rules as the API;
//! forms post with the session's CSRF secret in a hidden field, checked before anything
//! changes. No script is needed to use it; a few lines of inline script only confirm actions.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minewatch_store::cases::{self, Filter, STATES, State as CaseState};
use minewatch_store::documents::{self, esc};
use minewatch_store::evidence::{Stream, human_rate};
use minewatch_store::users::{self, User};
use minewatch_store::{audit, penalties, report, time};
use serde::Deserialize;

use crate::auth::{self, session_cookie};
use crate::{ApiError, AppState, access, changes};

/// UI language.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese (the default).
    Zh,
    /// English.
    En,
}

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
        "user" => ("User", "用户"),
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
            "JSON lines from minewatch scan, power scan or chain trace.",
            "minewatch scan、power scan 或 chain trace 输出的 JSON 行文件。",
        ),
        "uploaded" => ("Imported", "已导入"),
        "none" => ("None.", "无。"),
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
.85em}@media (max-width:700px){td,th{font-size:.8em}.hide-s{display:none}}";

fn page(lang: Lang, user: Option<&User>, title: &str, body: &str) -> Html<String> {
    let nav = match user {
        Some(u) => format!(
            "<a href=\"/\">{}</a><a href=\"/cases\">{}</a><a href=\"/upload\">{}</a><span class=\"me\">{} · {}{}</span>\
             <form method=\"post\" action=\"/logout\" style=\"margin:0\"><button id=\"logout\">{}</button></form>",
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
        None => String::new(),
    };
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    Html(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{} · {}</title><style>{STYLE}</style></head>\
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
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(e.into_response()),
    }
}

fn check_csrf(sent: &str, csrf: &str) -> Result<(), ApiError> {
    if sent == csrf {
        Ok(())
    } else {
        Err(ApiError::Forbidden("missing or wrong CSRF token".into()))
    }
}

/// The UI routes.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(set_lang))
        .route("/cases", get(case_list))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/advance", post(case_advance))
        .route("/cases/{id}/note", post(case_note))
        .route("/cases/{id}/document/{kind}", get(case_document))
        .route("/cases/{id}/assign", post(case_assign))
        .route("/cases/{id}/inspection", post(case_inspection))
        .route("/upload", get(upload_form).post(upload_submit))
}

async fn set_lang(Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .unwrap_or_else(|| "/".into());
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={value}; Path=/; SameSite=Strict; Max-Age=31536000"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

async fn login_form(headers: HeaderMap) -> Html<String> {
    login_page(lang_of(&headers), None)
}

fn login_page(lang: Lang, error: Option<&str>) -> Html<String> {
    let err = error
        .map(|e| format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        lang,
        None,
        t(lang, "login"),
        &format!(
            "<div class=\"card\" style=\"max-width:24em;margin:3em auto\"><h2>{}</h2>{err}\
             <form method=\"post\" action=\"/login\" class=\"inline\" style=\"flex-direction:column;align-items:stretch\">\
             <label>{}<input name=\"name\" id=\"name\" autocomplete=\"username\" required></label>\
             <label>{}<input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button id=\"submit\">{}</button></form></div>",
            t(lang, "login"),
            t(lang, "name"),
            t(lang, "password"),
            t(lang, "login")
        ),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    match crate::api::sign_in(&s, &f.name, &f.password).await {
        Ok((cookie, _)) => {
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp
        }
        Err(ApiError::TooMany(_)) => login_page(lang, Some(t(lang, "too_many"))).into_response(),
        Err(ApiError::Unauthenticated | ApiError::BadRequest(_)) => {
            login_page(lang, Some(t(lang, "bad_login"))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        let _ = s
            .db(move |c| {
                c.transaction(|c| {
                    if let Some((u, _)) = users::session(c, &token, time::now())? {
                        audit::append(c, time::now(), &u.name, "logout", "user", "{}")?;
                    }
                    users::close_session(c, &token)
                })
            })
            .await;
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}=; Path=/; Max-Age=0", auth::COOKIE)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
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
    let (user, _) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let within = (!user.region.is_empty()).then(|| user.region.clone());
    let rep = match s
        .db(move |c| report::regions(c, None, &report::ALL_LEVELS, within.as_deref()))
        .await
    {
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
    let chart = report::chart_svg_string(&rep, &top).unwrap_or_default();
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
    page(lang, Some(&user), t(lang, "dashboard"), &body).into_response()
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
    let (user, _) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(CaseState::parse);
    let region_asked = q.region.as_deref().filter(|r| !r.is_empty());
    if let Some(r) = region_asked
        && let Err(e) = minewatch_store::registry::check_region(r)
    {
        return ApiError::BadRequest(e).into_response();
    }
    let region = match access::scoped_region(&user, region_asked) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let stream = q.stream.as_deref().and_then(Stream::parse);
    let min_conf = q
        .min_confidence
        .as_deref()
        .and_then(|m| m.parse::<f64>().ok())
        .filter(|m| (0.0..=1.0).contains(m));
    let page_no = q.page.unwrap_or(0).max(0);
    let department = q
        .department
        .as_deref()
        .filter(|d| ["network", "grid", "finance", "police", "coordination"].contains(d))
        .map(str::to_string);
    let filter = Filter {
        department: department.clone(),
        states: state.into_iter().collect(),
        region: region.clone(),
        stream,
        min_confidence: min_conf,
        limit: Some(PAGE_SIZE),
        offset: page_no * PAGE_SIZE,
        order: q
            .sort
            .as_deref()
            .and_then(cases::Order::parse)
            .unwrap_or_default(),
    };
    let sort = q.sort.clone().unwrap_or_default();
    let role = user.role;
    // One page and a count, in the store: the list may hold a hundred thousand cases.
    let (shown, total) = match s
        .db(move |c| Ok((cases::list(c, &filter)?, cases::count(c, &filter)?)))
        .await
    {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
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
    for d in ["network", "grid", "finance", "police", "coordination"] {
        departments += &opt(d, department.as_deref(), d);
    }
    let mut streams = opt("", None, t(lang, "all"));
    for st in ["network", "grid", "chain"] {
        streams += &opt(st, stream.map(|s| s.name()), st);
    }
    let keep = format!(
        "state={}&region={}&stream={}&min_confidence={}&department={}",
        state.map(|s| s.name()).unwrap_or(""),
        esc(region_asked.unwrap_or("")),
        stream.map(|s| s.name()).unwrap_or(""),
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
            if lang == Lang::Zh {
                c.state.name_zh()
            } else {
                c.state.name()
            },
            esc(&c.region_code),
            esc(&access::mask_address(role, c.address.clone()).unwrap_or_default()),
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
    page(lang, Some(&user), t(lang, "cases"), &body).into_response()
}

async fn case_page(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let u = user.clone();
    let loaded = s
        .db(move |c| {
            let case = cases::get(c, id)?;
            if !access::in_scope(&u, &case.region_code) {
                return Err(minewatch_store::StoreError::NoCase(id));
            }
            if access::sees_address(u.role) || access::sees_subscriber(u.role) {
                c.transaction(|c| {
                    audit::append(
                        c,
                        time::now(),
                        &u.name,
                        "case.read",
                        &format!("case:{id}"),
                        "{\"personal_data\":true,\"via\":\"ui\"}",
                    )
                })?;
            }
            let surcharge = penalties::assess(c, &case)?;
            Ok((
                case,
                cases::history(c, id)?,
                cases::evidence(c, id)?,
                users::notes(c, id)?,
                surcharge,
                users::inspections(c, id)?,
                cases::load_curve(c, id)?,
            ))
        })
        .await;
    let (case, history, evidence, notes, surcharge, inspections, curve) = match loaded {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let role = user.role;
    let mut ev_rows = String::new();
    let mut sessions = String::new();
    for e in &evidence {
        let subject = access::mask_subject(role, e.subject.clone());
        let summary = if access::sees_subjects(role) {
            e.summary.clone()
        } else {
            format!("{} ({})", e.detector, e.stream)
        };
        ev_rows += &format!(
            "<tr><td>{}</td><td>{} / {}</td><td class=\"hide-s\">{}</td><td class=\"num\">{:.2}</td><td>{}</td></tr>",
            esc(&e.observed_from[..16.min(e.observed_from.len())]),
            esc(&e.department),
            esc(&e.detector),
            esc(&subject),
            e.confidence,
            esc(&summary)
        );
        if e.stream == "network" && access::sees_subjects(role) {
            sessions += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hide-s\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&e.observed_from[..16.min(e.observed_from.len())]),
                esc(e.pool.as_deref().unwrap_or("")),
                esc(e.coin.as_deref().unwrap_or("")),
                esc(e.worker.as_deref().unwrap_or("")),
                esc(e.wallet.as_deref().unwrap_or("")),
                e.hashrate_hs.map(human_rate).unwrap_or_default()
            );
        }
    }
    let mut hist = String::new();
    for h in &history {
        hist += &format!(
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            esc(&h.at[..16.min(h.at.len())]),
            esc(&h.actor),
            esc(h.from.as_deref().unwrap_or("-")),
            esc(&h.to),
            esc(&h.reason)
        );
    }
    let note_list: String = if notes.is_empty() {
        format!("<p>{}</p>", t(lang, "none"))
    } else {
        notes
            .iter()
            .map(|n| {
                format!(
                    "<p><strong>{}</strong> {}<br>{}</p>",
                    esc(&n.author),
                    esc(&n.at[..16.min(n.at.len())]),
                    esc(&n.text)
                )
            })
            .collect()
    };
    let inspection_rows: String = inspections
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&i.at[..16.min(i.at.len())]),
                esc(&i.inspector),
                if i.mining { t(lang, "yes") } else { t(lang, "no") },
                i.machines.map(|m| m.to_string()).unwrap_or_default(),
                i.measured_kw.map(|k| format!("{k:.1}")).unwrap_or_default(),
                esc(&i.notes)
            )
        })
        .collect();
    let curve_html = curve
        .and_then(|(start, values, onset)| report::load_curve_svg(start, &values, onset).ok())
        .map(|svg| {
            format!(
                "<div class=\"card\" id=\"load-curve\"><h3>{}</h3>{svg}</div>",
                t(lang, "load_curve")
            )
        })
        .unwrap_or_default();
    let mut actions = String::new();
    if access::may_advance(role) && !case.state.next().is_empty() {
        let opts: String = case
            .state
            .next()
            .iter()
            .map(|s| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    s.name(),
                    if lang == Lang::Zh {
                        s.name_zh()
                    } else {
                        s.name()
                    }
                )
            })
            .collect();
        actions += &format!(
            "<form class=\"inline card\" method=\"post\" action=\"/cases/{id}/advance\" id=\"advance\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>{}<select name=\"to\" id=\"to\">{opts}</select></label>\
             <label>{}<input name=\"reason\" id=\"reason\" required size=\"40\"></label><button id=\"do-advance\">{}</button></form>",
            esc(&csrf),
            t(lang, "advance"),
            t(lang, "reason"),
            t(lang, "save")
        );
    }
    if access::may_assign(role) {
        actions += &format!(
            "<form class=\"inline card\" method=\"post\" action=\"/cases/{id}/assign\" id=\"assign\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>{}<select name=\"to\">{}</select></label><button>{}</button></form>",
            esc(&csrf),
            t(lang, "assign"),
            ["network", "grid", "finance", "police"]
                .iter()
                .map(|d| format!("<option value=\"{d}\">{d}</option>"))
                .collect::<String>(),
            t(lang, "save")
        );
    }
    if access::may_advance(role) {
        actions += &format!(
            "<form class=\"inline card\" method=\"post\" action=\"/cases/{id}/inspection\" id=\"inspection\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>{}<select name=\"mining\"><option value=\"yes\">{}</option><option value=\"no\">{}</option></select></label>\
             <label>{}<input name=\"machines\" type=\"number\" min=\"0\" size=\"5\"></label><label>{}<input name=\"measured_kw\" type=\"number\" min=\"0\" step=\"0.1\" size=\"6\"></label>\
             <label>{}<input name=\"notes\" size=\"30\"></label><button>{}</button></form>",
            esc(&csrf),
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
            "<form class=\"inline card\" method=\"post\" action=\"/cases/{id}/note\" id=\"note\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>{}<textarea name=\"text\" rows=\"2\" cols=\"50\" required></textarea></label>\
             <button>{}</button></form>",
            esc(&csrf),
            t(lang, "add_note"),
            t(lang, "save")
        );
    }
    let surcharge_html = surcharge
        .map(|p| format!(
            "<p><strong>{}</strong>: {:.2} {} = {:.0} kWh × {:.2}/kWh, {} – {} <small>({})</small></p>",
            t(lang, "surcharge"), p.amount, esc(&p.rule.currency), p.energy_kwh, p.rule.surcharge_per_kwh, esc(&p.from), esc(&p.to), esc(&p.rule.source)
        ))
        .unwrap_or_default();
    let doc_lang = if lang == Lang::Zh { "zh" } else { "en" };
    let body = format!(
        "<h2>{} {id} · <span id=\"state\" class=\"badge\">{}</span></h2>\
         <div class=\"card\"><table><tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr>\
         <tr><th>{}</th><td>{}</td><th>{}</th><td>{:.2} ({})</td></tr>\
         <tr><th>{}</th><td>{:.1} ({:.1}–{:.1})</td><th>{}</th><td>{:.0}</td></tr>\
         <tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr></table>{surcharge_html}\
         <p>{}: <a href=\"/cases/{id}/document/notice?lang={doc_lang}\">{}</a> · <a href=\"/cases/{id}/document/inspection?lang={doc_lang}\">{}</a></p></div>\
         {curve_html}{actions}<h3>{}</h3><table id=\"history\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{hist}</table>\
         <h3>{}</h3><table id=\"evidence\"><tr><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>{ev_rows}</table>\
         <h3>{}</h3><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"hide-s\">{}</th><th class=\"num\">{}</th></tr>{sessions}</table>\
         <h3>{}</h3><div class=\"card\">{note_list}</div>\
         <h3>{}</h3><table id=\"inspections\"><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>{inspection_rows}</table>",
        t(lang, "case"),
        if lang == Lang::Zh {
            case.state.name_zh()
        } else {
            case.state.name()
        },
        t(lang, "site"),
        esc(&case.site_id),
        t(lang, "address"),
        esc(&access::mask_address(role, case.address.clone()).unwrap_or_default()),
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
        t(lang, "documents"),
        t(lang, "notice"),
        t(lang, "inspection"),
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
        Some(&user),
        &format!("{} {id}", t(lang, "case")),
        &body,
    )
    .into_response()
}

#[derive(Deserialize)]
struct AdvanceForm {
    csrf: String,
    to: String,
    reason: String,
}

async fn case_advance(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AdvanceForm>,
) -> Response {
    let user = match guard(&s, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    back_to(
        id,
        changes::advance(&s, &user, id, &f.to, f.reason, "ui").await,
    )
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    text: String,
}

async fn case_note(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<NoteForm>,
) -> Response {
    let user = match guard(&s, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    back_to(id, changes::note(&s, &user, id, f.text, "ui").await)
}

#[derive(Deserialize)]
struct DocQuery {
    lang: Option<String>,
}

async fn case_document(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, kind)): Path<(i64, String)>,
    Query(q): Query<DocQuery>,
) -> Response {
    let (user, _) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Documents carry the address and the surcharge: only for roles that see addresses.
    if !access::sees_address(user.role) {
        return ApiError::Forbidden("documents carry personal data this role may not see".into())
            .into_response();
    }
    let doc = match kind.as_str() {
        "notice" => documents::Doc::Notice,
        "inspection" => documents::Doc::Inspection,
        _ => return ApiError::NotFound(format!("no document {kind}")).into_response(),
    };
    let lang =
        documents::Lang::parse(q.lang.as_deref().unwrap_or("zh")).unwrap_or(documents::Lang::Zh);
    let result = s
        .db(move |c| {
            let case = cases::get(c, id)?;
            if !access::in_scope(&user, &case.region_code) {
                return Err(minewatch_store::StoreError::NoCase(id));
            }
            c.transaction(|c| {
                audit::append(
                    c,
                    time::now(),
                    &user.name,
                    "case.document",
                    &format!("case:{id}"),
                    &format!("{{\"kind\":\"{kind}\"}}"),
                )
            })?;
            documents::render(c, id, doc, lang)
        })
        .await;
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    to: String,
}

async fn case_assign(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Response {
    let user = match guard(&s, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    back_to(id, changes::assign(&s, &user, id, f.to, "ui").await)
}

#[derive(Deserialize)]
struct InspectionForm {
    csrf: String,
    mining: String,
    machines: Option<String>,
    measured_kw: Option<String>,
    notes: Option<String>,
}

async fn case_inspection(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<InspectionForm>,
) -> Response {
    let user = match guard(&s, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let num = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let machines = match num(&f.machines).map(|m| m.parse::<i64>()) {
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => {
            return ApiError::BadRequest("machines must be a whole number".into()).into_response();
        }
        None => None,
    };
    let measured_kw = match num(&f.measured_kw).map(|m| m.parse::<f64>()) {
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => {
            return ApiError::BadRequest("measured_kw must be a number".into()).into_response();
        }
        None => None,
    };
    let found = changes::Found {
        mining: f.mining == "yes",
        machines,
        measured_kw,
        notes: f.notes.unwrap_or_default(),
    };
    back_to(id, changes::inspect(&s, &user, id, found, "ui").await)
}

/// The signed-in user of a form post whose CSRF secret matches the session's.
async fn guard(s: &AppState, headers: &HeaderMap, sent_csrf: &str) -> Result<User, Response> {
    let (user, csrf) = viewer(s, headers).await?;
    check_csrf(sent_csrf, &csrf).map_err(IntoResponse::into_response)?;
    Ok(user)
}

/// Back to the case page after a change, or the error.
fn back_to(id: i64, done: Result<(), ApiError>) -> Response {
    match done {
        Ok(()) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn upload_form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        lang,
        Some(&user),
        t(lang, "upload"),
        &upload_body(lang, &csrf, None),
    )
    .into_response()
}

fn upload_body(lang: Lang, csrf: &str, result: Option<&str>) -> String {
    format!(
        "<h2>{}</h2>{}<form class=\"card\" method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\" id=\"upload\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><p>{}</p><input type=\"file\" name=\"file\" id=\"file\" accept=\".jsonl,.json,.ndjson,.txt\" required> \
         <button id=\"do-upload\">{}</button></form>",
        t(lang, "upload"),
        result
            .map(|r| format!("<p class=\"card\" id=\"result\">{}</p>", esc(r)))
            .unwrap_or_default(),
        esc(csrf),
        t(lang, "upload_help"),
        t(lang, "save")
    )
}

async fn upload_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    let lang = lang_of(&headers);
    let (user, csrf) = match viewer(&s, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (mut sent_csrf, mut name, mut body) = (String::new(), None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => sent_csrf = field.text().await.unwrap_or_default(),
                Some("file") => {
                    name = field.file_name().map(str::to_string);
                    match field.bytes().await {
                        Ok(b) => body = Some(b.to_vec()),
                        Err(e) => {
                            return ApiError::BadRequest(format!("upload: {e}")).into_response();
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return ApiError::BadRequest(format!("upload: {e}")).into_response(),
        }
    }
    if let Err(e) = check_csrf(&sent_csrf, &csrf) {
        return e.into_response();
    }
    let Some(body) = body else {
        return ApiError::BadRequest("no file".into()).into_response();
    };
    match crate::api::ingest_upload(&s, &user, name.as_deref(), body).await {
        Ok(r) => {
            let msg = format!(
                "{}: {} new, {} known, {} refused{}",
                t(lang, "uploaded"),
                r.new,
                r.known,
                r.bad_count,
                r.bad
                    .first()
                    .map(|b| format!(" (line {}: {})", b.line, b.message))
                    .unwrap_or_default()
            );
            page(
                lang,
                Some(&user),
                t(lang, "upload"),
                &upload_body(lang, &csrf, Some(&msg)),
            )
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}
