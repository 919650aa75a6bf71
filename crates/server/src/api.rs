//! `/api/v1`: JSON over HTTP, described by the OpenAPI document at `/api/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use minewatch_store::cases::{self, Filter, State as CaseState};
use minewatch_store::evidence::Stream;
use minewatch_store::users::{self, Role, User};
use minewatch_store::{audit, documents, penalties, registry, report, time};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Principal};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, AppState, ErrorBody};
use crate::{access, accounts, changes};

/// The largest request body accepted (evidence uploads).
pub const UPLOAD_LIMIT: usize = 64 << 20;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "minewatch",
        description = "Cases of cryptocurrency mining: evidence, lifecycle, regional figures"
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document that describes them (the application around them is
/// assembled in `lib.rs`, so this module does not know the UI's).
pub fn routes() -> axum::Router<AppState> {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(advance_case))
        .routes(routes!(add_note))
        .routes(routes!(assign_case))
        .routes(routes!(add_inspection))
        .routes(routes!(upload_evidence))
        .routes(routes!(case_document))
        .routes(routes!(regions))
        .routes(routes!(verify_audit))
        .routes(routes!(change_password))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_password))
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
        .split_for_parts();
    let mut api = api;
    complete_responses(&mut api);
    let doc = api.to_json().unwrap_or_else(|_| "{}".into());
    router.route(
        "/api/openapi.json",
        axum::routing::get(move || async move {
            ([(header::CONTENT_TYPE, "application/json")], doc.clone())
        }),
    )
}

/// Adds to every operation the error answers any request may meet, each with the JSON error
/// body: 400 (a parameter or body outside its schema), 401 (no credentials; not for log-in),
/// 403 (the role, or a session whose password must change first, or a missing CSRF secret),
/// 415 (a body in another content type) where there is a body, 413 for uploads past the limit,
/// and 500 (a server fault, answered with a request id). The handlers' own declarations stay.
fn complete_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let ops = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            let mut add = |code: &str, what: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(what));
            };
            add("400", "A parameter or body outside its schema");
            if path != "/api/v1/login" {
                add("401", "No valid credentials");
            }
            add("403", "Not allowed to this role or session");
            add("500", "A server fault (the answer carries a request id)");
            if op.request_body.is_some() {
                add(
                    "415",
                    "A body in a content type this operation does not take",
                );
            }
            if path == "/api/v1/evidence" {
                add("413", "An upload past the limit");
            }
            if path.contains('{') {
                add("404", "No such thing, or not in the caller's region");
            }
        }
    }
}

/// Reads an optional whole number written as an integer or as a float with no fraction.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(x as i64)),
        Some(x) => Err(serde::de::Error::custom(format!(
            "{x} is not a whole number"
        ))),
    }
}

/// Log-in request.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// User name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Who the caller is.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// User name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Region scope ("" for everywhere).
    pub region: String,
    /// The password is a one-time one: change it before anything else.
    pub must_change_password: bool,
    /// The CSRF secret to send as `X-CSRF-Token` with changes (sessions only).
    pub csrf: Option<String>,
}

fn me_of(p: &Principal) -> Me {
    Me {
        name: p.user.name.clone(),
        role: p.user.role.name().into(),
        region: p.user.region.clone(),
        must_change_password: p.user.must_change_password,
        csrf: p.csrf.clone(),
    }
}

/// Checks a name and password against the store and the rate limit; on success opens a
/// session and returns its cookie and the caller. Shared by the API and the UI's form.
pub async fn sign_in(
    s: &AppState,
    name: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> Result<(HeaderValue, Me), ApiError> {
    let now = time::now();
    if name.is_empty() || name.len() > 64 || password.len() > 1024 {
        return Err(ApiError::BadRequest(
            "name or password too long or empty".into(),
        ));
    }
    match s.limiter.check(name, client, now) {
        Ok(()) => {}
        Err(auth::Held::Name) => {
            return Err(ApiError::TooMany(format!(
                "too many failed log-ins for {name}; wait {} minutes",
                auth::WINDOW_S / 60
            )));
        }
        Err(auth::Held::Address) => {
            return Err(ApiError::TooMany(format!(
                "too many failed log-ins from this address; wait {} minutes",
                auth::WINDOW_S / 60
            )));
        }
    }
    let n = name.to_string();
    let found = s.db(move |c| users::by_name(c, &n)).await?;
    // Every attempt costs one argon2 run, on the blocking pool: an unknown name is checked
    // against a dummy hash and a disabled account's password is checked too, so the answer's
    // time says nothing about which names exist.
    let (user, hash) = match found {
        Some((u, hash)) => (Some(u), hash),
        None => (None, auth::dummy_hash().to_string()),
    };
    let pw = password.to_string();
    let matches = tokio::task::spawn_blocking(move || auth::check_password(&pw, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))?;
    let user = match user {
        Some(u) if matches && !u.disabled => u,
        _ => {
            s.limiter.failed(name, client, now);
            let n = name.to_string();
            s.db(move |c| {
                c.transaction(|c| audit::append(c, now, &n, "login.failed", "user", "{}"))
                    .map(|_| ())
            })
            .await?;
            return Err(ApiError::Unauthenticated);
        }
    };
    s.limiter.succeeded(name);
    let token = auth::random_hex(32)?;
    let csrf = auth::random_hex(16)?;
    let (t, cs, uid, uname) = (token.clone(), csrf.clone(), user.user_id, user.name.clone());
    s.db(move |c| {
        c.transaction(|c| {
            users::open_session(c, &t, uid, &cs, now, auth::SESSION_TTL_S)?;
            audit::append(c, now, &uname, "login", &format!("user:{uid}"), "{}")?;
            Ok(())
        })
    })
    .await?;
    let cookie = format!(
        "{}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        auth::COOKIE,
        auth::SESSION_TTL_S
    );
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?;
    let p = Principal {
        user,
        csrf: Some(csrf),
    };
    Ok((cookie, me_of(&p)))
}

/// Logs in and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let client = client.map(|c| c.0.0.ip());
    let (cookie, me) = sign_in(&s, &req.name, &req.password, client).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie);
    Ok((headers, Json(me)))
}

/// Ends the session and clears its cookie.
#[utoipa::path(post, path = "/api/v1/logout", responses((status = 200), (status = 401, body = ErrorBody)))]
async fn logout(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let token = auth::session_cookie(&headers);
    let name = p.user.name.clone();
    s.db(move |c| {
        c.transaction(|c| {
            if let Some(t) = token {
                users::close_session(c, &t)?;
            }
            audit::append(c, time::now(), &name, "logout", "user", "{}").map(|_| ())
        })
    })
    .await?;
    // The session is closed in the store; telling the browser to drop the cookie too.
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mw_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok((headers, Json(serde_json::json!({"ok": true}))))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(p: Principal) -> Json<Me> {
    Json(me_of(&p))
}

/// Case-list filters.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Comma-separated states.
    #[param(
        pattern = "^((suspected|verified|notified|rectified|re-inspected|closed|relapsed)(,(suspected|verified|notified|rectified|re-inspected|closed|relapsed))*,?)?$"
    )]
    pub state: Option<String>,
    /// GB/T 2260 prefix, within the caller's scope.
    #[param(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6})$")]
    pub region: Option<String>,
    /// network, grid or chain.
    #[param(pattern = "^(network|grid|chain)$")]
    pub stream: Option<String>,
    /// Minimum combined confidence.
    #[param(minimum = 0.0, maximum = 1.0)]
    pub min_confidence: Option<f64>,
    /// Only cases with evidence from this department (network, grid, finance, police, coordination).
    #[param(pattern = "^(network|grid|finance|police|coordination)$")]
    pub department: Option<String>,
    /// Page size (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Order: `rank` (most confident first, the default), `power`, `first_seen` or `case`.
    #[param(pattern = "^(rank|confidence|power|first_seen|case)$")]
    pub sort: Option<String>,
}

/// A case as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct CaseView {
    /// Case number.
    pub case_id: i64,
    /// Site.
    pub site_id: String,
    /// Lifecycle state.
    pub state: String,
    /// Region code.
    pub region_code: String,
    /// Address (masked for roles without clearance).
    pub address: Option<String>,
    /// Streams with evidence.
    pub streams: Vec<String>,
    /// Combined confidence.
    pub confidence: f64,
    /// Mining power, kW.
    pub power_kw: f64,
    /// Lower bound, kW.
    pub power_kw_low: f64,
    /// Upper bound, kW.
    pub power_kw_high: f64,
    /// Energy per month, kWh.
    pub energy_kwh_month: f64,
    /// First sighting.
    pub first_seen: Option<String>,
    /// Last sighting.
    pub last_seen: Option<String>,
    /// Pieces of evidence.
    pub evidence_count: i64,
}

fn view(role: Role, c: cases::Case) -> CaseView {
    CaseView {
        case_id: c.case_id,
        site_id: c.site_id,
        state: c.state.name().into(),
        region_code: c.region_code,
        address: access::mask_address(role, c.address),
        streams: c.streams,
        confidence: c.confidence,
        power_kw: c.power_kw,
        power_kw_low: c.power_kw_low,
        power_kw_high: c.power_kw_high,
        energy_kwh_month: c.energy_kwh_month,
        first_seen: c.first_seen,
        last_seen: c.last_seen,
        evidence_count: c.evidence_count,
    }
}

/// A page of cases.
#[derive(Serialize, ToSchema)]
pub struct CasePage {
    /// The cases.
    pub cases: Vec<CaseView>,
    /// Offset of the page.
    pub offset: i64,
    /// Page size asked for.
    pub limit: i64,
    /// Cases matching the filter, on all pages.
    pub total: i64,
}

/// Lists cases in the caller's region, most confident first.
#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery),
    responses((status = 200, body = CasePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_cases(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> Result<Json<CasePage>, ApiError> {
    Ok(Json(case_list(&s, &p.user, &q).await?))
}

/// One page of the cases `user` may see that match `q`, and how many match in all: the
/// API's case list and the UI's.
pub async fn case_list(s: &AppState, user: &User, q: &CaseQuery) -> Result<CasePage, ApiError> {
    let states = match &q.state {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| {
                CaseState::parse(x)
                    .ok_or_else(|| ApiError::BadRequest(format!("unknown state {x}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if let Some(r) = &q.region {
        registry::check_region(r).map_err(ApiError::BadRequest)?;
    }
    let stream = match &q.stream {
        None => None,
        Some(x) => Some(
            Stream::parse(x).ok_or_else(|| ApiError::BadRequest(format!("unknown stream {x}")))?,
        ),
    };
    if q.min_confidence.is_some_and(|m| !(0.0..=1.0).contains(&m)) {
        return Err(ApiError::BadRequest(
            "min_confidence must lie in 0..1".into(),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) || q.offset.is_some_and(|o| o < 0) {
        return Err(ApiError::BadRequest(
            "limit must be 1..500 and offset not negative".into(),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if let Some(d) = &q.department
        && !DEPARTMENTS.contains(&d.as_str())
    {
        return Err(ApiError::BadRequest(format!("unknown department {d}")));
    }
    let order = match &q.sort {
        None => cases::Order::Rank,
        Some(o) => cases::Order::parse(o)
            .ok_or_else(|| ApiError::BadRequest(format!("unknown order {o}")))?,
    };
    let filter = Filter {
        department: q.department.clone(),
        states,
        region: access::scoped_region(user, q.region.as_deref())?,
        stream,
        min_confidence: q.min_confidence,
        limit: Some(limit),
        offset,
        order,
    };
    let role = user.role;
    // One page from the store, in its order; the count of all matches (a pass over every
    // matching case) is kept per filter until something changes.
    let counted = Filter {
        limit: None,
        offset: 0,
        order: cases::Order::Rank,
        ..filter.clone()
    };
    let key = format!("{counted:?}");
    let total = s
        .counts
        .get_or(key, async move {
            s.db(move |c| cases::count(c, &counted)).await
        })
        .await?;
    let list = s.db(move |c| cases::list(c, &filter)).await?;
    Ok(CasePage {
        cases: list.into_iter().map(|c| view(role, c)).collect(),
        offset,
        limit,
        total,
    })
}

/// Departments that hand in evidence and take assignments.
pub const DEPARTMENTS: [&str; 5] = ["network", "grid", "finance", "police", "coordination"];

/// A case with its evidence, history, notes and surcharge.
#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseView,
    /// Lifecycle history.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<cases::Event>,
    /// Evidence, subjects masked by role.
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<cases::EvidenceRow>,
    /// Notes.
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<users::Note>,
    /// Inspection outcomes.
    #[schema(value_type = Vec<Object>)]
    pub inspections: Vec<users::Inspection>,
    /// The surcharge in force, worked out.
    #[schema(value_type = Option<Object>)]
    pub surcharge: Option<penalties::Assessment>,
    /// The meter's daily energy with the step onset, from the latest power evidence.
    pub load_curve: Option<LoadCurveView>,
    /// Mined income into the case's wallets and their coins reaching tagged entities (empty
    /// for roles that may not see wallets).
    #[schema(value_type = Vec<Object>)]
    pub money_trail: Vec<cases::TrailStep>,
    /// What the servers the case's network evidence suspects answered when probed
    /// (`minewatch confirm --db`), latest per server.
    #[schema(value_type = Vec<Object>)]
    pub probes: Vec<minewatch_store::probes::ProbeRecord>,
}

/// A meter's daily energy.
#[derive(Serialize, ToSchema)]
pub struct LoadCurveView {
    /// The first day (YYYY-MM-DD, China Standard Time).
    pub start: String,
    /// kWh per day from `start`; null where the meter was not read.
    pub daily_kwh: Vec<Option<f32>>,
    /// The day the step began, when one was found.
    pub onset: Option<String>,
}

/// One case, if it lies in the caller's region. Reading personal data is audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = i64, Path, description = "case number")),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(case_detail(&s, &p.user, id, "api").await?))
}

/// Case `id` as `user` may see it, its personal data masked by role, the read audited when it
/// shows any (`via` names the caller: `api` or `ui`): the API's case and the UI's case page.
pub async fn case_detail(
    s: &AppState,
    user: &User,
    id: i64,
    via: &'static str,
) -> Result<CaseDetail, ApiError> {
    let user = user.clone();
    s.db(move |c| {
        let case = cases::get(c, id)?;
        if !access::in_scope(&user, &case.region_code) {
            return Err(minewatch_store::StoreError::NoCase(id));
        }
        let role = user.role;
        let mut evidence = cases::evidence(c, id)?;
        for e in &mut evidence {
            e.subject = access::mask_subject(role, std::mem::take(&mut e.subject));
            e.attributed_by = access::mask_attribution(role, e.attributed_by.take());
            if !access::sees_subjects(role) {
                e.wallet = e.wallet.as_ref().map(|_| access::MASK.into());
                e.worker = e.worker.as_ref().map(|_| access::MASK.into());
                e.summary = format!("{} ({})", e.detector, e.stream);
                e.source = access::MASK.into();
            }
        }
        let money_trail = if access::sees_subjects(role) {
            cases::money_trail(c, id)?
        } else {
            Vec::new()
        };
        let surcharge = penalties::assess(c, &case)?;
        if access::sees_address(role) || access::sees_subscriber(role) {
            let detail = serde_json::json!({"personal_data": true, "via": via}).to_string();
            c.transaction(|c| {
                audit::append(
                    c,
                    time::now(),
                    &user.name,
                    "case.read",
                    &format!("case:{id}"),
                    &detail,
                )
            })?;
        }
        let load_curve = cases::load_curve(c, id)?.map(|(start, values, onset)| LoadCurveView {
            start: time::format_date(start),
            daily_kwh: values,
            onset: onset.map(time::format_date),
        });
        Ok(CaseDetail {
            history: cases::history(c, id)?,
            notes: users::notes(c, id)?,
            inspections: users::inspections(c, id)?,
            evidence,
            surcharge,
            load_curve,
            money_trail,
            probes: minewatch_store::probes::of_case(c, id)?,
            case: view(role, case),
        })
    })
    .await
}

/// A lifecycle step.
#[derive(Deserialize, ToSchema)]
pub struct AdvanceRequest {
    /// The new state.
    #[schema(pattern = "^(suspected|verified|notified|rectified|re-inspected|closed|relapsed)$")]
    pub to: String,
    /// Why.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
}

/// Moves a case to another state (grid, police, coordination, admin).
#[utoipa::path(post, path = "/api/v1/cases/{id}/advance", params(("id" = i64, Path, description = "case number")),
    request_body = AdvanceRequest,
    responses((status = 200, body = CaseView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn advance_case(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AdvanceRequest>,
) -> Result<Json<CaseView>, ApiError> {
    changes::advance(&s, &p.user, id, &req.to, req.reason).await?;
    let case = s.db(move |c| cases::get(c, id)).await?;
    Ok(Json(view(p.user.role, case)))
}

/// A note.
#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    /// The text.
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    pub text: String,
}

/// Adds a note to a case (every role but auditor).
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", params(("id" = i64, Path, description = "case number")),
    request_body = NoteRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_note(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    changes::note(&s, &p.user, id, req.text).await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// Report scope.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// GB/T 2260 prefix within the caller's scope.
    #[param(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6})$")]
    pub region: Option<String>,
}

/// Regional figures within the caller's scope.
#[utoipa::path(get, path = "/api/v1/report/regions", params(RegionQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn regions(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> Result<axum::response::Response, ApiError> {
    let report = region_report(&s, &p.user, q.region.as_deref()).await?;
    // Written from the shared cached report, not a copy of it.
    Ok(Json(report.as_ref()).into_response())
}

/// The regional report within `user`'s scope (and `region`, when asked): the API's and the
/// dashboard's.
pub async fn region_report(
    s: &AppState,
    user: &User,
    region: Option<&str>,
) -> Result<std::sync::Arc<report::Report>, ApiError> {
    if let Some(r) = region {
        registry::check_region(r).map_err(ApiError::BadRequest)?;
    }
    let within = access::scoped_region(user, region)?;
    let scope = within.clone();
    s.reports
        .get_or(within, async move {
            s.db(move |c| report::regions(c, None, &report::ALL_LEVELS, scope.as_deref()))
                .await
                .map(std::sync::Arc::new)
        })
        .await
}

/// Checks the audit chain (auditor, coordination, admin).
#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn verify_audit(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<audit::Verification>, ApiError> {
    if !access::may_verify_audit(p.user.role) {
        return Err(ApiError::Forbidden(format!(
            "the {} role cannot read the audit log",
            p.user.role.name()
        )));
    }
    Ok(Json(s.db(audit::verify).await?))
}

/// An assignment.
#[derive(Deserialize, ToSchema)]
pub struct AssignRequest {
    /// Department or person.
    #[schema(min_length = 1, max_length = 64, pattern = "\\S")]
    pub to: String,
}

/// Assigns a case to a department or person (coordination, admin).
#[utoipa::path(post, path = "/api/v1/cases/{id}/assign", params(("id" = i64, Path, description = "case number")),
    request_body = AssignRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn assign_case(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    changes::assign(&s, &p.user, id, req.to).await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// An inspection outcome.
#[derive(Deserialize, ToSchema)]
pub struct InspectionRequest {
    /// Mining found on site.
    pub mining: bool,
    /// Machines counted (a whole number; `16.0` is read as 16, as JSON Schema's integers are).
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000)]
    #[serde(default, deserialize_with = "whole_number")]
    pub machines: Option<i64>,
    /// Load measured on site, kW.
    #[schema(minimum = 0.0, maximum = 1000000.0)]
    pub measured_kw: Option<f64>,
    /// Remarks.
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

/// Records what an inspection found (grid, police, coordination, admin); outcomes feed the
/// power model's learning (`minewatch cases inspections`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/inspections", params(("id" = i64, Path, description = "case number")),
    request_body = InspectionRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_inspection(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<InspectionRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = changes::Found {
        mining: req.mining,
        machines: req.machines,
        measured_kw: req.measured_kw,
        notes: req.notes.unwrap_or_default(),
    };
    changes::inspect(&s, &p.user, id, found).await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// Document language.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// `zh` (the default) or `en`.
    #[param(pattern = "^(zh|en)$")]
    pub lang: Option<String>,
}

/// A printable document of the case as HTML: the rectification notice (`notice`) or the
/// inspection sheet (`inspection`); they carry the address and the surcharge, so only roles
/// that see addresses get them. Every issue is audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{kind}",
    params(("id" = i64, Path, description = "case number"), ("kind" = String, Path, description = "notice or inspection"), DocumentQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn case_document(
    State(s): State<AppState>,
    p: Principal,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
) -> Result<axum::response::Html<String>, ApiError> {
    if !access::sees_address(p.user.role) {
        return Err(ApiError::Forbidden(
            "documents carry personal data this role may not see".into(),
        ));
    }
    let doc = match kind.as_str() {
        "notice" => documents::Doc::Notice,
        "inspection" => documents::Doc::Inspection,
        _ => return Err(ApiError::NotFound(format!("no document {kind}"))),
    };
    let lang = match q.lang.as_deref() {
        None => documents::Lang::Zh,
        Some(l) => documents::Lang::parse(l)
            .ok_or_else(|| ApiError::BadRequest(format!("unknown language {l}")))?,
    };
    let user = p.user;
    let html = s
        .db(move |c| {
            let case = cases::get(c, id)?;
            if !access::in_scope(&user, &case.region_code) {
                return Err(minewatch_store::StoreError::NoCase(id));
            }
            let detail = serde_json::json!({"kind": kind}).to_string();
            c.transaction(|c| {
                audit::append(
                    c,
                    time::now(),
                    &user.name,
                    "case.document",
                    &format!("case:{id}"),
                    &detail,
                )
            })?;
            documents::facts(c, id)
        })
        .await?;
    Ok(axum::response::Html(minewatch_present::html::document(
        &html, doc, lang,
    )))
}

/// Evidence upload parameters.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// A name for the upload, kept as provenance (default `upload`).
    #[param(max_length = 128)]
    pub name: Option<String>,
}

/// Uploads evidence: JSON lines from `minewatch scan`, `power scan` or `chain trace`, or meter
/// readings as CSV (long `meter_id,timestamp,kwh` or one column per day), which are scored
/// against the registry's customer profiles first. Either goes through the same import as
/// `minewatch ingest`, recorded as the caller's department.
#[utoipa::path(post, path = "/api/v1/evidence", params(UploadQuery),
    request_body(content((Vec<u8> = "application/x-ndjson"), (Vec<u8> = "text/csv"))),
    responses((status = 200, body = UploadReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn upload_evidence(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<UploadReport>, ApiError> {
    // The content tells JSON lines from CSV; the declared type must still be one of the two
    // the operation takes, as the contract says.
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let kind = match declared.as_deref() {
        Some("application/x-ndjson") => crate::upload::Kind::JsonLines,
        Some("text/csv") => crate::upload::Kind::MeterCsv,
        _ => {
            return Err(ApiError::UnsupportedMedia(
                "send evidence as Content-Type: application/x-ndjson (JSON lines) or text/csv (meter readings)".into(),
            ));
        }
    };
    Ok(Json(
        ingest_upload(&s, &p.user, q.name.as_deref(), body.to_vec(), Some(kind)).await?,
    ))
}

/// What an upload came to.
#[derive(Serialize, ToSchema)]
pub struct UploadReport {
    /// The import's counts: new, known, refused lines and why.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub ingest: minewatch_store::ingest::IngestReport,
    /// For meter readings: what scoring them came to.
    pub power: Option<crate::upload::PowerSummary>,
}

/// Ingests an upload for a user: JSON lines as they are, meter readings once scored.
pub async fn ingest_upload(
    s: &AppState,
    user: &users::User,
    name: Option<&str>,
    body: Vec<u8>,
    declared: Option<crate::upload::Kind>,
) -> Result<UploadReport, ApiError> {
    let Some(department) = access::department(user.role) else {
        return Err(ApiError::Forbidden(format!(
            "the {} role cannot hand in evidence",
            user.role.name()
        )));
    };
    if body.is_empty() {
        return Err(ApiError::BadRequest("the upload is empty".into()));
    }
    let name = name
        .unwrap_or("upload")
        .chars()
        .take(128)
        .collect::<String>();
    let label = format!("upload:{}:{name}", user.name);
    let actor = user.name.clone();
    let region = user.region.clone();
    // The declared type decides; content tells only when nothing was declared.
    let kind = declared.unwrap_or_else(|| crate::upload::sniff(&body));
    let (lines, power) = match kind {
        crate::upload::Kind::JsonLines => (body, None),
        crate::upload::Kind::MeterCsv => {
            // Only the meters of the uploader's regions are scored against their profiles.
            let scope = region.clone();
            let profiles = s
                .db(move |c| {
                    let mut p = registry::meter_profiles(c)?;
                    p.retain(|m| m.region_code.starts_with(&scope));
                    Ok(p)
                })
                .await?;
            let n = name.clone();
            let (lines, summary) = tokio::task::spawn_blocking(move || {
                crate::upload::score_readings(&body, &n, profiles)
            })
            .await
            .map_err(|e| ApiError::Internal(format!("scoring task failed: {e}")))??;
            (lines, Some(summary))
        }
    };
    let done = s
        .db(move |c| {
            // The import, its fusion and its audit entry are one change: all or nothing.
            c.transaction(|c| {
                let rules = minewatch_store::ingest::Rules {
                    department: Some(department),
                    region: &region,
                    confidence: Some(&crate::upload::justified_confidence),
                };
                let source = minewatch_store::ingest::Source::Reader(
                    label.clone(),
                    Box::new(std::io::Cursor::new(lines)),
                );
                let r = minewatch_store::ingest::import(c, vec![source], &rules, true)?;
                let i = &r.ingest;
                if i.lines > 0 && i.bad_count.saturating_sub(i.outside_region) == i.lines {
                    // Not one line could be read: the file is not evidence at all (as a CSV
                    // without meter columns is not), and nothing of it stays.
                    let why = i.bad.first().map_or(String::new(), |b| {
                        format!(": line {}: {}", b.line, b.message)
                    });
                    return Err(minewatch_store::StoreError::Invalid(format!(
                        "no line of the upload is evidence{why}"
                    )));
                }
                let detail = serde_json::json!({"name": label, "new": r.ingest.new,
                    "refused": r.ingest.bad_count, "outside_region": r.ingest.outside_region,
                    "confidence_lowered": r.ingest.confidence_lowered,
                    "cases_opened": r.fused.opened, "meters_scored": power.as_ref().map(|p| p.meters)})
                .to_string();
                audit::append(
                    c,
                    time::now(),
                    &actor,
                    "evidence.upload",
                    "evidence",
                    &detail,
                )?;
                Ok(UploadReport {
                    ingest: r.ingest,
                    power,
                })
            })
        })
        .await;
    // New evidence may open cases or move their figures.
    s.changed();
    done
}

/// A change of one's own password.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The password now (the one-time one, after a reset).
    #[schema(max_length = 1024)]
    pub old: String,
    /// The new one.
    #[schema(min_length = 12, max_length = 1024)]
    pub new: String,
}

/// Changes the caller's own password (the only thing a user with a one-time password may do);
/// the caller's other sessions end, this one too: log in again.
#[utoipa::path(post, path = "/api/v1/password", request_body = PasswordChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn change_password(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    accounts::check_new_password(&req.old, &req.new)?;
    let name = p.user.name.clone();
    let found = s.db(move |c| users::by_name(c, &name)).await?;
    let Some((_, stored)) = found else {
        return Err(ApiError::Unauthenticated);
    };
    let (old, new) = (req.old, req.new);
    let (matches, hash) = tokio::task::spawn_blocking(move || {
        (
            auth::check_password(&old, &stored),
            auth::hash_password(&new),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password task failed: {e}")))?;
    if !matches {
        return Err(ApiError::Forbidden("the old password is wrong".into()));
    }
    let hash = hash?;
    let user = p.user.clone();
    s.db(move |c| accounts::change_password(c, &user, &hash, time::now()))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

fn admin(p: &Principal) -> Result<(), ApiError> {
    if access::may_manage_accounts(p.user.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the {} role cannot manage accounts",
            p.user.role.name()
        )))
    }
}

/// Disables a user: their sessions end and their tokens stop working (administrators).
#[utoipa::path(post, path = "/api/v1/users/{name}/disable", params(("name" = String, Path, max_length = 64, description = "The user")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn disable_user(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&p)?;
    if name == p.user.name {
        return Err(ApiError::Forbidden(
            "an administrator cannot disable themselves".into(),
        ));
    }
    let actor = p.user.name.clone();
    s.db(move |c| accounts::set_disabled(c, &actor, &name, true, time::now()))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// Enables a disabled user (administrators).
#[utoipa::path(post, path = "/api/v1/users/{name}/enable", params(("name" = String, Path, max_length = 64, description = "The user")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn enable_user(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&p)?;
    let actor = p.user.name.clone();
    s.db(move |c| accounts::set_disabled(c, &actor, &name, false, time::now()))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// A one-time password, shown once.
#[derive(Serialize, ToSchema)]
pub struct OneTimePassword {
    /// The password; the user must change it at their next log-in.
    pub password: String,
}

/// Gives a user a new one-time password and ends their sessions (administrators).
#[utoipa::path(post, path = "/api/v1/users/{name}/reset-password", params(("name" = String, Path, max_length = 64, description = "The user")),
    responses((status = 200, body = OneTimePassword), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn reset_password(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<OneTimePassword>, ApiError> {
    admin(&p)?;
    let actor = p.user.name.clone();
    let password = s
        .db(move |c| accounts::reset_password(c, &actor, &name, time::now()))
        .await?;
    Ok(Json(OneTimePassword { password }))
}

/// Every API token (never the tokens themselves), for administrators.
#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_tokens(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    admin(&p)?;
    let list = s.db(|c| accounts::tokens(c, None)).await?;
    Ok(Json(
        list.into_iter()
            .map(|t| TokenView {
                id: t.id,
                user: t.user,
                label: t.label,
                created_at: t.created_at,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
            })
            .collect(),
    ))
}

/// An API token as listed: never the token itself.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    /// Public id (the first 12 hex digits of the token's hash).
    pub id: String,
    /// Whose.
    pub user: String,
    /// What it is for.
    pub label: String,
    /// Made at (Unix seconds).
    pub created_at: i64,
    /// Valid until (Unix seconds).
    pub expires_at: i64,
    /// Revoked at (Unix seconds), if it was.
    pub revoked_at: Option<i64>,
}

/// Revokes an API token by its public id (administrators).
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", params(("id" = String, Path, pattern = "^[0-9a-f]{12}$", description = "The token's public id (12 hex digits)")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&p)?;
    let actor = p.user.name.clone();
    s.db(move |c| accounts::revoke_token(c, &actor, &id, time::now()))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}
