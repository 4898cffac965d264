//! The one reply type of the API, [`Reply`]: a result and the language to say it in, rendered
//! by the envelope `E` of its generation (PROTOCOL.md §2 "Envelopes"). An envelope is a type that
//! knows how its generation spells a success and a refusal; the extractor ([`super::Ctx`]) uses
//! the same envelope for the refusals it makes itself (a rate limit, an unreadable body).

use std::marker::PhantomData;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::i18n::Lang;
use crate::ids;

/// How a generation spells its replies.
pub(crate) trait Envelope: Send + 'static {
    /// A success carrying `data` (a `Value`, or a struct whose fields are in the order a
    /// `Value` object would print them: by name); `message` is the endpoint's own success
    /// message, if it has one.
    fn ok<T: Serialize>(lang: Lang, message: Option<&'static str>, data: T) -> Response;
    /// A refusal, with `Retry-After` when it is a rate limit.
    fn fail(lang: Lang, e: &ApiError) -> Response;
}

/// G2, G3 (and G1's generate): `{code, message, data}`, business errors on HTTP 200 (a rate
/// limit on 429).
pub(crate) struct Code;

/// `{code, data, message}`, written straight from the reply (no `Value` tree per request).
#[derive(Serialize)]
struct CodeOk<'a, T> {
    code: u16,
    data: T,
    message: &'a str,
}

impl Envelope for Code {
    fn ok<T: Serialize>(_: Lang, message: Option<&'static str>, data: T) -> Response {
        let body = CodeOk {
            code: 200,
            data,
            message: message.unwrap_or(""),
        };
        (StatusCode::OK, Json(body)).into_response()
    }

    fn fail(lang: Lang, e: &ApiError) -> Response {
        let status = if e.retry_after().is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::OK
        };
        let body = json!({"code": e.code(), "message": e.message(lang), "data": null});
        with_retry_after((status, Json(body)).into_response(), e)
    }
}

/// G4: `{statusCode, message, data}` with one success message; a refusal adds `apiCode` and
/// `requestId`, and its HTTP status is its `statusCode`.
pub(crate) struct V3;

/// `{data, message, statusCode}`.
#[derive(Serialize)]
struct V3Ok<'a, T> {
    data: T,
    message: &'a str,
    #[serde(rename = "statusCode")]
    status_code: u16,
}

impl Envelope for V3 {
    fn ok<T: Serialize>(lang: Lang, _: Option<&'static str>, data: T) -> Response {
        let body = V3Ok {
            data,
            message: v3_ok_message(lang),
            status_code: 200,
        };
        (StatusCode::OK, Json(body)).into_response()
    }

    fn fail(lang: Lang, e: &ApiError) -> Response {
        let http = e.g4_http_status();
        let body = json!({
            "statusCode": http,
            "message": e.message(lang),
            "apiCode": e.code(),
            "requestId": ids::object_id(),
            "data": null,
        });
        let status = StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_REQUEST);
        with_retry_after((status, Json(body)).into_response(), e)
    }
}

/// What a handler answers: rendered by the envelope `E` when axum turns it into a response.
/// The data is a `Value`, or a struct for the hot replies (polls).
#[must_use]
pub(crate) struct Reply<E, T = Value> {
    lang: Lang,
    message: Option<&'static str>,
    result: Result<T, ApiError>,
    envelope: PhantomData<fn() -> E>,
}

impl<E: Envelope, T: Serialize> Reply<E, T> {
    pub fn new(lang: Lang, message: Option<&'static str>, result: Result<T, ApiError>) -> Self {
        Reply {
            lang,
            message,
            result,
            envelope: PhantomData,
        }
    }
}

impl<E: Envelope, T: Serialize> IntoResponse for Reply<E, T> {
    fn into_response(self) -> Response {
        match self.result {
            Ok(data) => E::ok(self.lang, self.message, data),
            Err(e) => E::fail(self.lang, &e),
        }
    }
}

/// Adds `Retry-After` to a rate-limited reply.
pub(crate) fn with_retry_after(mut resp: Response, e: &ApiError) -> Response {
    if let Some(secs) = e.retry_after() {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Success message of G4 replies.
pub(crate) fn v3_ok_message(lang: Lang) -> &'static str {
    lang.pick("操作成功", "Success")
}
