//! The HTTP side: one handler for every request, routing by method and
//! path, security headers on every answer.
//!
//! ```text
//! GET  /                     the form            POST /             create (form, multipart, raw body)
//! GET  /<id>[?hl=&ln=&raw=]  the paste           POST /<id>         burn after reading: show and delete
//! GET  /raw/<id>             raw content         POST /raw/<id>     raw, burning it if it burns
//! GET  /download/<id>        as an attachment    DELETE /<id>?token=
//! GET  /delete/<id>?token=   confirmation page   POST /delete/<id>  delete (token in form or query)
//! GET  /static/*             CSS and JS          GET /robots.txt
//! ```

mod pages;
mod submit;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use minijinja::context;
use paf::{Body, BodyError};
use serde::Serialize;

use crate::clock::Clock;
use crate::highlight::Highlighter;
use crate::paste::{self, Expiry, Meta, unix};
use crate::ratelimit::RateLimiter;
use crate::secret::Secret;
use crate::store::Pastes;
use crate::sync::Syncer;
pub(crate) use pages::Pages;
pub(crate) use submit::Submission;
use submit::SubmitError;

/// Every page's policy: our own scripts and styles only, no frames, no
/// plugins, forms only to us.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Raw content: nothing runs, even if a browser renders it.
const RAW_CSP: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";

const STYLE_CSS: &str = include_str!("../../static/style.css");
const APP_JS: &str = include_str!("../../static/app.js");

/// What the handler needs.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) pastes: Pastes,
    pub(crate) secret: Secret,
    pub(crate) highlighter: Highlighter,
    pub(crate) highlights: crate::highlight::HighlightCache,
    pub(crate) magic: conan::Magic,
    pub(crate) pages: Pages,
    pub(crate) limiter: RateLimiter,
    pub(crate) trusted_proxies: Vec<IpAddr>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) syncer: Option<Arc<Syncer>>,
    /// `https://host` when the hostname was given; else from `Host`.
    pub(crate) public_url: Option<String>,
    pub(crate) id_length: usize,
    pub(crate) max_size: u64,
    /// Burn-after-reading pastes being removed right now.
    pub(crate) burning: std::sync::Mutex<std::collections::HashSet<String>>,
}

type Res = Response<Full<Bytes>>;

/// The service function.
pub(crate) async fn handle(state: Arc<State>, req: Request<Body>) -> Result<Res, Infallible> {
    let mut res = route(&state, req).await;
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    Ok(res)
}

/// How the client wants answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wants {
    Html,
    Json,
    Text,
}

fn wants(req: &Request<Body>) -> Wants {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/json") {
        Wants::Json
    } else if accept.contains("text/html") {
        Wants::Html
    } else {
        Wants::Text
    }
}

async fn route(state: &State, req: Request<Body>) -> Res {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET | &Method::HEAD, [""]) => index(state, &req),
        (&Method::POST | &Method::PUT, [""]) => create(state, req).await,
        (&Method::GET | &Method::HEAD, ["static", "style.css"]) => {
            asset(STYLE_CSS.into(), "text/css; charset=utf-8")
        }
        (&Method::GET | &Method::HEAD, ["static", "highlight.css"]) => {
            asset(state.highlighter.css().to_string(), "text/css; charset=utf-8")
        }
        (&Method::GET | &Method::HEAD, ["static", "app.js"]) => {
            asset(APP_JS.into(), "text/javascript; charset=utf-8")
        }
        (&Method::GET | &Method::HEAD, ["robots.txt"]) => {
            asset(state.pages.robots().into(), "text/plain; charset=utf-8")
        }
        (&Method::GET | &Method::HEAD, ["raw", id]) => raw(state, &req, id, false, false).await,
        (&Method::POST, ["raw", id]) => raw(state, &req, id, false, true).await,
        (&Method::GET | &Method::HEAD, ["download", id]) => raw(state, &req, id, true, false).await,
        (&Method::GET | &Method::HEAD, ["delete", id]) => delete_page(state, &req, id),
        (&Method::POST, ["delete", id]) => {
            let id = id.to_string();
            delete(state, req, &id).await
        }
        (&Method::DELETE, [id]) => {
            let id = id.to_string();
            delete(state, req, &id).await
        }
        (&Method::GET | &Method::HEAD, [id]) => view(state, &req, id, false).await,
        (&Method::POST, [id]) => view(state, &req, id, true).await,
        _ => message(
            state,
            wants(&req),
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here.",
        ),
    }
}

fn sync_line(state: &State) -> pages::SyncLine {
    pages::sync_line(state.syncer.as_deref(), unix(std::time::SystemTime::now()))
}

fn html(status: StatusCode, body: String) -> Res {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

fn text(status: StatusCode, body: String) -> Res {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

fn json(status: StatusCode, value: &impl Serialize) -> Res {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

fn asset(body: String, content_type: &'static str) -> Res {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

fn no_store(mut res: Res) -> Res {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An error or notice in the form the client wants.
fn message(state: &State, wants: Wants, status: StatusCode, heading: &str, body: &str) -> Res {
    match wants {
        Wants::Html => html(
            status,
            state.pages.render(
                "message.html",
                sync_line(state),
                context! { heading, text => body, kind => if status.is_success() { "info" } else { "error" } },
            ),
        ),
        Wants::Json => json(status, &serde_json::json!({ "error": body })),
        Wants::Text => text(status, format!("{body}\n")),
    }
}

fn base_url(state: &State, req: &Request<Body>) -> String {
    if let Some(url) = &state.public_url {
        return url.clone();
    }
    let tls = req.body().conn_info().tls;
    let scheme = if tls { "https" } else { "http" };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => format!("{scheme}://{host}"),
        None => {
            let local = req.body().conn_info().local.to_string();
            format!("{scheme}://{local}")
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted
/// proxy, the last address of `X-Forwarded-For` that is not one (each
/// proxy appends the address it got the request from).
fn client_ip(state: &State, req: &Request<Body>) -> Option<IpAddr> {
    let peer = req.body().conn_info().peer.ip();
    if !state.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !state.trusted_proxies.contains(ip))
            .unwrap_or(peer),
    )
}

fn query_param(req: &Request<Body>, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn is_true(v: Option<String>) -> Option<bool> {
    v.map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes"))
}

fn index(state: &State, req: &Request<Body>) -> Res {
    let expiries: Vec<_> = Expiry::ALL
        .iter()
        .map(|e| context! { value => e.as_str(), label => e.label() })
        .collect();
    let base = base_url(state, req);
    html(
        StatusCode::OK,
        state.pages.render(
            "index.html",
            sync_line(state),
            context! {
                languages => state.highlighter.languages(),
                expiries,
                max => bytesize::ByteSize(state.max_size).display().iec().to_string(),
                base,
            },
        ),
    )
}

#[derive(Serialize)]
struct CreatedJson {
    id: String,
    url: String,
    raw: String,
    delete: String,
}

async fn create(state: &State, req: Request<Body>) -> Res {
    let wants = wants(&req);
    if let Some(ip) = client_ip(state, &req)
        && let Err(wait) = state.limiter.check(ip, Instant::now())
    {
        let secs = wait.as_secs() + 1;
        let mut res = message(
            state,
            wants,
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            &format!("Too many pastes from your address; try again in {secs} s."),
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let base = base_url(state, &req);
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(BodyError::TooLarge { .. }) => return too_large(state, wants, None),
        Err(error) => {
            tracing::debug!(%error, "request body lost");
            return message(
                state,
                wants,
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The request body could not be read.",
            );
        }
    };
    let sub = match Submission::parse(&parts.headers, parts.uri.query(), body).await {
        Ok(sub) => sub,
        Err(SubmitError::Expiry(e)) => {
            return message(
                state,
                wants,
                StatusCode::BAD_REQUEST,
                "Bad request",
                &e.to_string(),
            );
        }
        Err(e @ SubmitError::Multipart(_)) => {
            return message(
                state,
                wants,
                StatusCode::BAD_REQUEST,
                "Bad request",
                &crate::error_chain(&e),
            );
        }
    };
    let wants = if sub.from_form && wants == Wants::Text {
        Wants::Html
    } else {
        wants
    };
    if sub.content.len() as u64 > state.max_size {
        return too_large(state, wants, Some(sub.content.len()));
    }
    if sub.content.is_empty() {
        return message(
            state,
            wants,
            StatusCode::BAD_REQUEST,
            "Empty paste",
            "There is nothing to paste.",
        );
    }
    let meta = describe(state, &sub);
    let id = loop {
        let id = paste::new_id(state.id_length);
        match state.pastes.contains(&id) {
            Ok(false) => break id,
            Ok(true) => continue,
            Err(error) => return internal(state, wants, &error),
        }
    };
    if let Err(error) = state.pastes.create(&id, &meta, sub.content).await {
        return internal(state, wants, &error);
    }
    if let Some(syncer) = &state.syncer {
        syncer.wake();
    }
    tracing::info!(%id, size = meta.size, mime = %meta.mime, "paste created");
    let url = format!("{base}/{id}");
    let raw = format!("{base}/raw/{id}");
    let delete = format!("{base}/delete/{id}?token={}", state.secret.delete_token(&id));
    let mut res = match wants {
        Wants::Html => html(
            StatusCode::CREATED,
            state.pages.render(
                "created.html",
                sync_line(state),
                context! {
                    url => &url, raw => &raw, delete => &delete, burn => meta.burn,
                    expires => meta.expires.map(pages::date),
                },
            ),
        ),
        Wants::Json => json(
            StatusCode::CREATED,
            &CreatedJson {
                id: id.clone(),
                url: url.clone(),
                raw,
                delete: delete.clone(),
            },
        ),
        Wants::Text => text(StatusCode::CREATED, format!("{url}\n")),
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&url) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&delete) {
        h.insert(HeaderName::from_static("x-delete-url"), v);
    }
    no_store(res)
}

/// The metadata of a submission: type from conan, language chosen or
/// detected, expiry from the clock.
fn describe(state: &State, sub: &Submission) -> Meta {
    let created = state.clock.now();
    let (mime, binary) = if sub.encrypted {
        ("text/plain".to_string(), false)
    } else {
        let outcome = state.magic.identify(&sub.content);
        let binary = outcome.encoding == "binary" && std::str::from_utf8(&sub.content).is_err();
        (outcome.mime, binary)
    };
    let lang = if binary || sub.encrypted {
        None
    } else {
        match &sub.lang {
            Some(lang) => state.highlighter.resolve(lang),
            None => {
                let text = String::from_utf8_lossy(&sub.content);
                state.highlighter.detect(&text, sub.filename.as_deref())
            }
        }
    };
    Meta {
        created: unix(created),
        expires: sub.expiry.duration().map(|d| unix(created + d)),
        burn: sub.burn,
        encrypted: sub.encrypted,
        title: sub.title.clone(),
        lang,
        mime,
        binary,
        filename: sub.filename.clone(),
        size: sub.content.len() as u64,
    }
}

fn too_large(state: &State, wants: Wants, size: Option<usize>) -> Res {
    let max = bytesize::ByteSize(state.max_size).display().iec().to_string();
    let text = match size {
        Some(size) => format!(
            "This paste is {} ({size} bytes); the maximum is {max}.",
            bytesize::ByteSize(size as u64).display().iec()
        ),
        None => format!("This paste is larger than the maximum of {max}."),
    };
    message(
        state,
        wants,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Paste too large",
        &text,
    )
}

fn internal(state: &State, wants: Wants, error: &dyn std::error::Error) -> Res {
    tracing::error!(error = %crate::error_chain(error), "request failed");
    message(
        state,
        wants,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Server error",
        "The paste could not be stored or read; try again.",
    )
}

/// Looks up a live paste: `None` (after answering) when it does not exist,
/// has expired, or the id is malformed.
fn lookup(state: &State, wants: Wants, id: &str) -> Result<(Meta, Vec<u8>), Box<Res>> {
    let gone = || {
        message(
            state,
            wants,
            StatusCode::NOT_FOUND,
            "Not found",
            "No such paste (it may have expired or been deleted).",
        )
    };
    if !paste::is_valid_id(id) {
        return Err(Box::new(gone()));
    }
    match state.pastes.get(id) {
        Ok(Some((meta, content))) if !meta.is_expired(state.clock.now()) => Ok((meta, content)),
        Ok(_) => Err(Box::new(gone())),
        Err(error) => Err(Box::new(internal(state, wants, &error))),
    }
}

/// Removes a burn-after-reading paste before it is shown; `Err` if the
/// removal did not reach the disk (then it is not shown).
async fn burn(state: &State, wants: Wants, id: &str, meta: &Meta) -> Result<(), Box<Res>> {
    let read_already = || {
        Box::new(message(
            state,
            wants,
            StatusCode::NOT_FOUND,
            "Not found",
            "No such paste (it may have been read already).",
        ))
    };
    // Only the first of concurrent readers gets it: gitkv's removal is not
    // conditional, so the claim is made here, in memory.
    if !state
        .burning
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_string())
    {
        return Err(read_already());
    }
    let outcome = match state
        .pastes
        .remove(
            &[(id.to_string(), meta.expires)],
            format!("paste {id} burnt after reading"),
        )
        .await
    {
        Ok(1) => {
            if let Some(syncer) = &state.syncer {
                syncer.wake();
            }
            Ok(())
        }
        // Someone else read it first.
        Ok(_) => Err(read_already()),
        Err(error) => Err(Box::new(internal(state, wants, &error))),
    };
    state.burning.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    outcome
}

async fn view(state: &State, req: &Request<Body>, id: &str, reveal: bool) -> Res {
    let wants = if wants(req) == Wants::Json {
        Wants::Json
    } else {
        Wants::Html
    };
    let (meta, content) = match lookup(state, wants, id) {
        Ok(found) => found,
        Err(res) => return *res,
    };
    if is_true(query_param(req, "raw")) == Some(true) {
        return raw_response(id, &meta, content, false);
    }
    if meta.burn && !reveal {
        return no_store(html(
            StatusCode::OK,
            state.pages.render("burn.html", sync_line(state), context! { id }),
        ));
    }
    if !meta.burn && reveal {
        return message(
            state,
            wants,
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "Only burn-after-reading pastes are opened by POST.",
        );
    }
    if meta.burn
        && let Err(res) = burn(state, wants, id, &meta).await
    {
        return *res;
    }
    let numbers = is_true(query_param(req, "ln")).unwrap_or(true);
    let hl = query_param(req, "hl").filter(|h| !h.is_empty());
    let lang = hl.clone().or(meta.lang.clone());
    let hl_query = hl
        .as_deref()
        .map(|h| {
            format!(
                "&hl={}",
                form_urlencoded::byte_serialize(h.as_bytes()).collect::<String>()
            )
        })
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&content).into_owned();
    let (lines, language) = if meta.binary || meta.encrypted {
        (Vec::new(), state.highlighter.name_of(None))
    } else {
        let highlight = || state.highlighter.highlight(&text, lang.as_deref());
        let highlighted = if meta.burn {
            std::sync::Arc::new(highlight())
        } else {
            state.highlights.get_or_make(id, lang.as_deref(), highlight)
        };
        (highlighted.lines.clone(), highlighted.language.clone())
    };
    let description = if meta.binary {
        state.magic.identify(&content).description
    } else {
        String::new()
    };
    let page = state.pages.render(
        "paste.html",
        sync_line(state),
        context! {
            id, title => meta.title, language, lines, numbers, hl_query,
            size => bytesize::ByteSize(meta.size).display().iec().to_string(),
            created => pages::date(meta.created),
            expires => meta.expires.map(pages::date),
            burnt => meta.burn, encrypted => meta.encrypted, binary => meta.binary,
            mime => meta.mime, description,
            ciphertext => if meta.encrypted { text } else { String::new() },
        },
    );
    let res = html(StatusCode::OK, page);
    if meta.burn { no_store(res) } else { res }
}

async fn raw(state: &State, req: &Request<Body>, id: &str, download: bool, reveal: bool) -> Res {
    let (meta, content) = match lookup(state, Wants::Text, id) {
        Ok(found) => found,
        Err(res) => return *res,
    };
    if meta.burn && !reveal {
        return message(
            state,
            wants(req),
            StatusCode::FORBIDDEN,
            "Burn after reading",
            &format!("This paste is deleted when read: open /{id} and confirm, or POST to /raw/{id}."),
        );
    }
    if meta.burn
        && let Err(res) = burn(state, Wants::Text, id, &meta).await
    {
        return *res;
    }
    let res = raw_response(id, &meta, content, download);
    if meta.burn { no_store(res) } else { res }
}

/// Content as stored: text as `text/plain`, binary with its detected type
/// unless a browser could run it; never sniffed, sandboxed.
fn raw_response(id: &str, meta: &Meta, content: Vec<u8>, download: bool) -> Res {
    let content_type = if !meta.binary {
        "text/plain; charset=utf-8".to_string()
    } else if is_inert(&meta.mime) {
        meta.mime.clone()
    } else {
        "application/octet-stream".to_string()
    };
    let mut res = Response::new(Full::new(Bytes::from(content)));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(RAW_CSP));
    if download {
        let name = meta
            .filename
            .clone()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| {
                let ext = meta
                    .lang
                    .as_deref()
                    .filter(|l| l.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .unwrap_or(if meta.binary { "bin" } else { "txt" });
                format!("{id}.{ext}")
            });
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    res
}

/// Types a browser shows without running anything (SVG can hold scripts).
fn is_inert(mime: &str) -> bool {
    (mime.starts_with("image/") && !mime.contains("svg"))
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || matches!(
            mime,
            "application/pdf"
                | "application/zip"
                | "application/gzip"
                | "application/x-xz"
                | "application/x-bzip2"
                | "application/x-tar"
                | "application/octet-stream"
                | "application/x-executable"
                | "application/x-sharedlib"
                | "application/x-pie-executable"
        )
}

fn delete_page(state: &State, req: &Request<Body>, id: &str) -> Res {
    let token = query_param(req, "token").unwrap_or_default();
    if !paste::is_valid_id(id) || !state.secret.verify_delete_token(id, &token) {
        return message(
            state,
            Wants::Html,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This delete link is not valid.",
        );
    }
    no_store(html(
        StatusCode::OK,
        state
            .pages
            .render("delete.html", sync_line(state), context! { id, token }),
    ))
}

async fn delete(state: &State, req: Request<Body>, id: &str) -> Res {
    let wants = wants(&req);
    let mut token = query_param(&req, "token");
    let from_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if token.is_none()
        && let Ok(body) = req.into_body().collect().await
    {
        token = form_urlencoded::parse(&body.to_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned());
    }
    let wants = if from_form && wants == Wants::Text {
        Wants::Html
    } else {
        wants
    };
    if !paste::is_valid_id(id)
        || !state
            .secret
            .verify_delete_token(id, token.as_deref().unwrap_or(""))
    {
        return message(
            state,
            wants,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This delete token is not valid.",
        );
    }
    let expires = match state.pastes.meta(id) {
        Ok(Some(meta)) => meta.expires,
        Ok(None) => return message(state, wants, StatusCode::NOT_FOUND, "Not found", "No such paste."),
        Err(error) => return internal(state, wants, &error),
    };
    match state
        .pastes
        .remove(
            &[(id.to_string(), expires)],
            format!("paste {id} deleted by its owner"),
        )
        .await
    {
        Ok(0) => message(state, wants, StatusCode::NOT_FOUND, "Not found", "No such paste."),
        Ok(_) => {
            if let Some(syncer) = &state.syncer {
                syncer.wake();
            }
            state.highlights.forget(id);
            tracing::info!(%id, "paste deleted");
            message(
                state,
                wants,
                StatusCode::OK,
                "Deleted",
                &format!("Paste {id} is deleted."),
            )
        }
        Err(error) => internal(state, wants, &error),
    }
}
