//! The whole HTTP surface in one router: the four generations, the approval page, our
//! extensions, and the headers every response carries.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::http::{AppState, Code, Envelope};
use crate::i18n::Lang;
use crate::media;
use crate::ratelimit::Kind;
use crate::{approval, device, gen, oidc, typed_code};

/// Request bodies are small JSON or forms; anything larger is refused before parsing.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let no_store = SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    Router::new()
        .merge(gen::g1::router())
        .merge(gen::g2::router())
        .merge(gen::g3::router())
        .merge(gen::g4::router())
        .merge(approval::router())
        .merge(oidc::router())
        .merge(device::router())
        .merge(typed_code::router())
        .merge(gen::history::router())
        .merge(crate::idp::router())
        .route("/healthz", get(healthz))
        .route("/.well-known/qrlogin", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/qrcode/{file}", get(qr_png))
        .route("/avatars/{file}", get(avatar))
        .route("/logos/{file}", get(logo))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(no_store)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // A framed approval page is the classic QR-login attack: nothing of ours is framed.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Logged: method, path and client address only. Queries carry `random`/`qrcodeId`, bodies carry
        // tickets and passwords, headers carry tokens; none of them go to the log.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let client = req.extensions().get::<crate::client_addr::ClientAddr>();
                // The fields are formatted only when the span is logged (not per request).
                tracing::info_span!(
                    "http",
                    method = %req.method(),
                    path = %req.uri().path(),
                    client = %client.map(|c| c.0.to_string()).unwrap_or_default()
                )
            }),
        )
        .with_state(state)
}

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Our extensions, announced once (PROTOCOL.md §4).
async fn discovery() -> Response {
    Json(json!({
        "version": 1,
        "longPoll": true,
        "pkce": true,
        "checkCode": true,
        "requester": true,
        "scanId": true,
        "sessions": true,
        // The device-code grant holds a token request given `wait` (device.rs).
        "deviceLongPoll": true,
        // Every QR session has a code to type at `{publicUrl}/s` (typed_code.rs).
        "userCode": true,
    }))
    .into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    Json(state.server.jwks()).into_response()
}

async fn qr_png(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
) -> Response {
    if let Err(e) = state.limit(Kind::Poll, peer.ip()) {
        return Code::fail(Lang::Zh, &e);
    }
    let Some(scan_id) = file.strip_suffix(".png") else {
        return not_found().await;
    };
    // A user code here would be a cheap oracle for guessing codes: charge it like the page.
    if let Err(e) = state.limit_user_code_guess(scan_id, peer.ip()) {
        return Code::fail(Lang::Zh, &e);
    }
    // The same rule as the page: a rotated-away id draws nothing (else its base id would fetch
    // the current code).
    let session = match state.server.session_by_public_id(scan_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found().await,
        Err(e) => return Code::fail(Lang::Zh, &e),
    };
    if scan_id == session.scan_id {
        return png(media::qr_png(&session.qr_content));
    }
    png(media::qr_png(&format!("{}/s/{scan_id}", state.public_url)))
}

/// An app's logo as stored (already re-encoded PNG).
async fn logo(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(app_id) = file.strip_suffix(".png") else {
        return not_found().await;
    };
    match state.server.store().get_app(app_id).await {
        Ok(Some(crate::model::App {
            logo_png: Some(bytes),
            ..
        })) => png(Ok(bytes)),
        _ => not_found().await,
    }
}

/// A default avatar for any id: it does not say whether such a user exists.
async fn avatar(Path(file): Path<String>) -> Response {
    match file.strip_suffix(".png") {
        Some(id) if !id.is_empty() && id.len() <= 64 => png(media::avatar_png(id)),
        _ => not_found().await,
    }
}

fn png(bytes: Result<Vec<u8>, String>) -> Response {
    match bytes {
        Ok(b) => ([(header::CONTENT_TYPE, "image/png")], b).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a PNG failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": 404, "statusCode": 404, "message": "Not Found", "data": null})),
    )
        .into_response()
}
