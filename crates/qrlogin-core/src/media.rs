//! Bounded image download to data URLs: avatars, logos and server QR images reach the webview
//! only as `data:` URLs (its CSP allows no remote images), and only after type and size checks.

use std::time::Duration;

use base64::Engine as _;

/// Limits on one download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

/// An image that passed the checks. `mime` comes from the bytes, never from the server's claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

impl FetchedImage {
    /// A raster format the `image` crate can decode (everything but SVG).
    pub fn is_raster(&self) -> bool {
        self.mime != SVG
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("image URL scheme not allowed: {0}")]
    Scheme(String),
    #[error("invalid image URL: {0}")]
    BadUrl(String),
    #[error("image download failed: {0}")]
    Http(String),
    #[error("image download timed out")]
    Timeout,
    #[error("image larger than {0} bytes")]
    TooLarge(usize),
    #[error("not a supported image type (png, jpeg, gif, webp, svg)")]
    NotAnImage,
    #[error("SVG rejected: {0}")]
    UnsafeSvg(String),
}

pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";
pub const GIF: &str = "image/gif";
pub const WEBP: &str = "image/webp";
pub const SVG: &str = "image/svg+xml";

/// Download (or decode a `data:` URL) within `limits` and check that it is an image we allow.
/// Only `http`, `https` and `data` URLs: `file:`, `javascript:` and the rest are refused before
/// anything is read.
pub async fn fetch_image(
    client: &reqwest::Client,
    url: &str,
    limits: FetchLimits,
) -> Result<FetchedImage, MediaError> {
    let trimmed = url.trim();
    let scheme = trimmed
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .ok_or_else(|| MediaError::BadUrl(short(trimmed)))?;
    let bytes = match scheme.as_str() {
        "data" => decode_data_url(trimmed, limits.max_bytes)?,
        "http" | "https" => {
            let parsed = url::Url::parse(trimmed).map_err(|e| MediaError::BadUrl(e.to_string()))?;
            tokio::time::timeout(limits.timeout, download(client, parsed, limits))
                .await
                .map_err(|_| MediaError::Timeout)??
        }
        other => return Err(MediaError::Scheme(other.to_owned())),
    };
    check_image(bytes)
}

/// Checks bytes from anywhere (a download, a file, a test) as [`fetch_image`] does.
pub fn check_image(bytes: Vec<u8>) -> Result<FetchedImage, MediaError> {
    let mime = sniff(&bytes).ok_or(MediaError::NotAnImage)?;
    if mime == SVG {
        check_svg(&bytes)?;
    } else {
        // The header must parse: a truncated or fake file stops here, not in the webview.
        image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()
            .map_err(|_| MediaError::NotAnImage)?
            .into_dimensions()
            .map_err(|_| MediaError::NotAnImage)?;
    }
    Ok(FetchedImage { bytes, mime })
}

async fn download(
    client: &reqwest::Client,
    url: url::Url,
    limits: FetchLimits,
) -> Result<Vec<u8>, MediaError> {
    let mut response = client
        .get(url)
        .timeout(limits.timeout)
        .header(reqwest::header::ACCEPT, "image/*")
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                MediaError::Timeout
            } else {
                MediaError::Http(e.without_url().to_string())
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(MediaError::Http(format!("HTTP status {}", status.as_u16())));
    }
    if let Some(len) = response.content_length() {
        if len > limits.max_bytes as u64 {
            return Err(MediaError::TooLarge(limits.max_bytes));
        }
    }
    // The length header may be absent or wrong, so count while reading.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        if e.is_timeout() {
            MediaError::Timeout
        } else {
            MediaError::Http(e.without_url().to_string())
        }
    })? {
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(MediaError::TooLarge(limits.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `data:[<mime>][;base64],<payload>`; the declared type is ignored (the bytes are sniffed).
#[doc(hidden)] // pub for the fuzz targets (fuzz/src/core_targets.rs), not a stable API
pub fn decode_data_url(url: &str, max_bytes: usize) -> Result<Vec<u8>, MediaError> {
    let rest = url
        .get(5..)
        .ok_or_else(|| MediaError::BadUrl("data URL".into()))?;
    let (meta, payload) = rest
        .split_once(',')
        .ok_or_else(|| MediaError::BadUrl("data URL without a comma".into()))?;
    // Base64 is 4/3 of the bytes; refuse before decoding anything huge.
    if payload.len() / 4 * 3 > max_bytes.saturating_add(3) {
        return Err(MediaError::TooLarge(max_bytes));
    }
    let bytes = if meta.to_ascii_lowercase().ends_with(";base64") {
        let compact: String = payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| MediaError::BadUrl(format!("data URL base64: {e}")))?
    } else {
        percent_decode(payload)
    };
    if bytes.len() > max_bytes {
        return Err(MediaError::TooLarge(max_bytes));
    }
    Ok(bytes)
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The image type from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(GIF)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(WEBP)
    } else if looks_like_svg(bytes) {
        Some(SVG)
    } else {
        None
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let starts_ok =
        text.starts_with("<?xml") || text.starts_with("<svg") || text.starts_with("<!--");
    starts_ok && text.to_ascii_lowercase().contains("<svg")
}

/// Rejects SVG that could run code or load anything: scripts, `foreignObject`, event handler
/// attributes, `javascript:` URLs, external references and DTDs (entity tricks). An `<img>` would
/// not run scripts anyway; this keeps it true wherever the data URL ends up.
#[doc(hidden)] // pub for the fuzz targets, not a stable API
pub fn check_svg(bytes: &[u8]) -> Result<(), MediaError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| MediaError::UnsafeSvg("not UTF-8".into()))?
        .to_ascii_lowercase();
    for (needle, why) in [
        ("<script", "script element"),
        ("<foreignobject", "foreignObject element"),
        ("javascript:", "javascript: URL"),
        ("<!doctype", "DTD"),
        ("<!entity", "entity declaration"),
        ("<iframe", "iframe"),
        ("<use", "use element"),
        ("@import", "CSS import"),
    ] {
        if text.contains(needle) {
            return Err(MediaError::UnsafeSvg(why.into()));
        }
    }
    if has_event_handler(&text) {
        return Err(MediaError::UnsafeSvg("event handler attribute".into()));
    }
    // Any href or url() that leaves the document (only fragments and data: images stay inside).
    for marker in ["href", "url("] {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let value = rest
                .trim_start_matches(|c: char| {
                    c.is_whitespace() || c == '=' || c == '"' || c == '\''
                })
                .trim_start();
            if !(value.starts_with('#') || value.starts_with("data:image/")) {
                return Err(MediaError::UnsafeSvg("external reference".into()));
            }
        }
    }
    Ok(())
}

/// An attribute named `on…` (`onload=`, `onclick =`): whitespace or `/` then `on`, letters, `=`.
fn has_event_handler(lower: &str) -> bool {
    let b = lower.as_bytes();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("on") {
        let at = i + pos;
        let boundary = at > 0 && (b[at - 1].is_ascii_whitespace() || b[at - 1] == b'/');
        if boundary {
            let mut j = at + 2;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j > at + 2 && j < b.len() && b[j] == b'=' {
                return true;
            }
        }
        i = at + 2;
    }
    false
}

pub fn data_url(img: &FetchedImage) -> String {
    format!(
        "data:{};base64,{}",
        img.mime,
        base64::engine::general_purpose::STANDARD.encode(&img.bytes)
    )
}

pub async fn fetch_image_data_url(
    client: &reqwest::Client,
    url: &str,
    limits: FetchLimits,
) -> Result<String, MediaError> {
    fetch_image(client, url, limits).await.map(|i| data_url(&i))
}

/// The start of a URL for an error message (a data URL can be megabytes).
fn short(s: &str) -> String {
    s.chars().take(60).collect()
}
