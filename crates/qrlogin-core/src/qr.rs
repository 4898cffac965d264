//! QR rendering (crisp SVG and integer-scaled PNG data URLs), decoding (rqrr), and turning a
//! server's QR image into a crisp local rendering of what it encodes.

use base64::Engine as _;
use image::{GrayImage, ImageEncoder, Luma, Rgba, RgbaImage};
use qrcode::{Color, QrCode};

pub use qrcode::EcLevel;

use crate::media::{self, FetchLimits};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    /// M by default (15 % recovery); [`render_with_logo`] raises it to at least Q, since the logo
    /// hides modules.
    pub ec: EcLevel,
    /// The PNG side in pixels, at most: the module size is the largest whole number of pixels
    /// that fits, so the PNG can come out a little smaller (and larger only when even one pixel
    /// per module does not fit).
    pub png_size: u32,
    /// Light border in modules; the standard asks for 4.
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

impl QrOptions {
    /// The defaults with EC level Q, for codes with a logo.
    pub fn for_logo() -> Self {
        Self {
            ec: EcLevel::Q,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedQr {
    /// `data:image/svg+xml;base64,...`; for a server image that is not a QR, that image.
    pub svg_data_url: String,
    /// `data:image/png;base64,...`; for a server image that is not a QR, that image.
    pub png_data_url: String,
    /// What the QR encodes, when known.
    pub text: Option<String>,
    /// Modules per side without the quiet zone (0 when the image was passed through).
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

const DARK: &str = "#000";
const LIGHT: &str = "#fff";

/// Render `text` as a QR: one SVG path on an integer module grid, and a PNG whose modules are
/// each exactly `scale × scale` pixels.
pub fn render(text: &str, opts: &QrOptions) -> Result<RenderedQr, QrError> {
    let grid = Grid::encode(text, opts.ec)?;
    let png = grid.png(opts)?;
    Ok(RenderedQr {
        svg_data_url: svg_data_url(&grid.svg(opts.quiet_zone, None)),
        png_data_url: png_data_url(&png),
        text: Some(text.to_owned()),
        modules: grid.width,
    })
}

/// The SVG alone, as a data URL: for front ends that show only the vector code (and so that the
/// SVG path can be measured on its own against the bare encode).
pub fn render_svg(text: &str, opts: &QrOptions) -> Result<String, QrError> {
    let grid = Grid::encode(text, opts.ec)?;
    Ok(svg_data_url(&grid.svg(opts.quiet_zone, None)))
}

/// Render with a logo (Authing's `customLogo`, mini-program codes) in the centre: round, about a
/// fifth of the code's width, on a white disc. EC level is at least Q so the hidden modules are
/// recovered.
pub fn render_with_logo(
    text: &str,
    logo_png_bytes: &[u8],
    opts: &QrOptions,
) -> Result<RenderedQr, QrError> {
    let ec = match opts.ec {
        EcLevel::H => EcLevel::H,
        _ => EcLevel::Q,
    };
    let logo = decode_limited(logo_png_bytes)?.to_rgba8();
    let grid = Grid::encode(text, ec)?;
    let scale = grid.scale(opts);
    let geometry = LogoGeometry::new(grid.width as u32 * scale, scale);

    let mut png = grid.raster(opts.quiet_zone, scale).to_rgba8_opaque();
    let round_logo = round_logo(&logo, geometry.logo_d);
    let centre = png.width() as f32 / 2.0;
    draw_disc(&mut png, centre, geometry.disc_d as f32 / 2.0);
    let corner = (png.width() - geometry.logo_d) / 2;
    image::imageops::overlay(&mut png, &round_logo, corner.into(), corner.into());

    let png_bytes = encode_png_rgba(&png)?;
    // The SVG gets the same logo, in module units (the SVG grid is one unit per module).
    let logo_png = encode_png_rgba(&round_logo)?;
    let unit = scale as f32;
    let svg_logo = SvgLogo {
        disc_r: geometry.disc_d as f32 / 2.0 / unit,
        logo_side: geometry.logo_d as f32 / unit,
        png_b64: base64::engine::general_purpose::STANDARD.encode(logo_png),
    };
    Ok(RenderedQr {
        svg_data_url: svg_data_url(&grid.svg(opts.quiet_zone, Some(&svg_logo))),
        png_data_url: png_data_url(&png_bytes),
        text: Some(text.to_owned()),
        modules: grid.width,
    })
}

/// For servers that only give an image URL (G1 `qrcode`, G4 `url`): download it (2 MiB, 10 s),
/// and if it holds a QR, re-render that text crisply (with the logo when given); if not (a round
/// WeChat mini-program code), return the image itself with `text: None`.
/// Our own QR of `text` with the server's logo (G3 `customLogo`, G4 `customLogoUrl`) in the
/// centre at EC level H (30 % recovery, so the covered centre still reads). A logo that cannot
/// be fetched or used leaves the plain code.
pub async fn render_with_logo_url(
    client: &reqwest::Client,
    text: &str,
    logo_url: &str,
    opts: &QrOptions,
) -> Result<RenderedQr, QrError> {
    let logo = match media::fetch_image(client, logo_url, FetchLimits::default()).await {
        Ok(logo) if logo.is_raster() => Some(logo.bytes),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "QR logo not loaded; showing the QR without it");
            None
        }
    };
    if let Some(logo) = logo {
        let with_h = QrOptions {
            ec: EcLevel::H,
            ..*opts
        };
        match render_with_logo(text, &logo, &with_h) {
            Ok(r) => return Ok(r),
            Err(e) => tracing::warn!(error = %e, "QR logo not usable; showing the QR without it"),
        }
    }
    render(text, opts)
}

pub async fn from_image(
    client: &reqwest::Client,
    url: &str,
    logo_url: Option<&str>,
) -> Result<RenderedQr, QrError> {
    let limits = FetchLimits::default();
    let fetched = media::fetch_image(client, url, limits).await?;
    if fetched.is_raster() {
        let bytes = fetched.bytes.clone();
        // Decoding a 2 MiB image can take a while; keep it off the async workers.
        let decoded = tokio::task::spawn_blocking(move || decode_image(&bytes))
            .await
            .map_err(|e| QrError::Image(e.to_string()))?;
        if let Some(text) = decoded.ok().and_then(|texts| texts.into_iter().next()) {
            let logo = match logo_url {
                Some(logo_url) => match media::fetch_image(client, logo_url, limits).await {
                    Ok(logo) if logo.is_raster() => Some(logo.bytes),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "QR logo not loaded; showing the QR without it");
                        None
                    }
                },
                None => None,
            };
            if let Some(logo) = logo {
                match render_with_logo(&text, &logo, &QrOptions::for_logo()) {
                    Ok(rendered) => return Ok(rendered),
                    Err(e) => {
                        tracing::warn!(error = %e, "QR logo not usable; showing the QR without it")
                    }
                }
            }
            return render(&text, &QrOptions::default());
        }
    }
    let url = media::data_url(&fetched);
    Ok(RenderedQr {
        svg_data_url: url.clone(),
        png_data_url: url,
        text: None,
        modules: 0,
    })
}

/// Every QR text found in a PNG (or any image format we read). Finds a QR anywhere in a large
/// image, such as a whole-window screenshot; tries a half-size copy when the first pass finds
/// nothing (very large modules and scaling artifacts trip the detector), then the inverted image.
pub fn decode_png(png_bytes: &[u8]) -> Result<Vec<String>, QrError> {
    decode_image(png_bytes)
}

/// [`decode_png`] for any raster format we read.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>, QrError> {
    let luma = decode_limited(bytes)?.to_luma8();
    decode_luma(&luma)
}

/// Decode from an image already in memory.
pub fn decode_luma(luma: &GrayImage) -> Result<Vec<String>, QrError> {
    let found = scan(luma);
    if !found.is_empty() {
        return Ok(found);
    }
    if luma.width() >= 42 && luma.height() >= 42 {
        let half = image::imageops::resize(
            luma,
            luma.width() / 2,
            luma.height() / 2,
            image::imageops::FilterType::Triangle,
        );
        let found = scan(&half);
        if !found.is_empty() {
            return Ok(found);
        }
    }
    // A dark-mode page may show the code light on dark; the detector only looks for dark marks.
    let mut inverted = luma.clone();
    image::imageops::invert(&mut inverted);
    let found = scan(&inverted);
    if !found.is_empty() {
        return Ok(found);
    }
    Err(QrError::NotFound)
}

fn scan(luma: &GrayImage) -> Vec<String> {
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        luma.get_pixel(x as u32, y as u32)[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// Decode with limits, so a small file that claims huge dimensions cannot exhaust memory.
fn decode_limited(bytes: &[u8]) -> Result<image::DynamicImage, QrError> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(256 * 1024 * 1024);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::Image(e.to_string()))?;
    reader.limits(limits);
    reader.decode().map_err(|e| QrError::Image(e.to_string()))
}

/// The module matrix of one code.
struct Grid {
    width: usize,
    dark: Vec<bool>,
}

impl Grid {
    fn encode(text: &str, ec: EcLevel) -> Result<Self, QrError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), ec)
            .map_err(|e| QrError::Encode(e.to_string()))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(Self { width, dark })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }

    /// Pixels per module: the largest whole number for which the PNG fits `png_size`, at least 1.
    fn scale(&self, opts: &QrOptions) -> u32 {
        let total = self.width as u32 + 2 * opts.quiet_zone;
        (opts.png_size / total.max(1)).max(1)
    }

    fn raster(&self, quiet: u32, scale: u32) -> GrayImage {
        let side = (self.width as u32 + 2 * quiet) * scale;
        GrayImage::from_fn(side, side, |px, py| {
            let (mx, my) = (px / scale, py / scale);
            let dark = mx >= quiet
                && my >= quiet
                && (mx - quiet) < self.width as u32
                && (my - quiet) < self.width as u32
                && self.is_dark((mx - quiet) as usize, (my - quiet) as usize);
            Luma([if dark { 0 } else { 255 }])
        })
    }

    fn png(&self, opts: &QrOptions) -> Result<Vec<u8>, QrError> {
        let img = self.raster(opts.quiet_zone, self.scale(opts));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                img.as_raw(),
                img.width(),
                img.height(),
                image::ExtendedColorType::L8,
            )
            .map_err(|e| QrError::Image(e.to_string()))?;
        Ok(out)
    }

    /// One `<path>` of horizontal runs on the integer grid, `crispEdges` so no viewer blurs the
    /// module borders.
    fn svg(&self, quiet: u32, logo: Option<&SvgLogo>) -> String {
        let side = self.width as u32 + 2 * quiet;
        let mut d = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    let run = x - start;
                    d.push_str(&format!(
                        "M{} {}h{}v1h-{}z",
                        start as u32 + quiet,
                        y as u32 + quiet,
                        run,
                        run
                    ));
                } else {
                    x += 1;
                }
            }
        }
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
             width=\"{side}\" height=\"{side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"{LIGHT}\"/>\
             <path fill=\"{DARK}\" d=\"{d}\"/>"
        );
        if let Some(logo) = logo {
            let c = side as f32 / 2.0;
            let half = logo.logo_side / 2.0;
            svg.push_str(&format!(
                "<circle cx=\"{c}\" cy=\"{c}\" r=\"{r:.3}\" fill=\"{LIGHT}\" shape-rendering=\"geometricPrecision\"/>\
                 <image x=\"{x:.3}\" y=\"{x:.3}\" width=\"{s:.3}\" height=\"{s:.3}\" \
                 href=\"data:image/png;base64,{b64}\"/>",
                r = logo.disc_r,
                x = c - half,
                s = logo.logo_side,
                b64 = logo.png_b64,
            ));
        }
        svg.push_str("</svg>");
        svg
    }
}

struct SvgLogo {
    disc_r: f32,
    logo_side: f32,
    png_b64: String,
}

/// Sizes in PNG pixels: the disc is a fifth of the code's width, the logo sits inside it with a
/// margin of at least one module.
struct LogoGeometry {
    disc_d: u32,
    logo_d: u32,
}

impl LogoGeometry {
    fn new(code_px: u32, scale: u32) -> Self {
        let disc_d = (code_px / 5).max(3);
        let margin = scale.max(disc_d / 14);
        let logo_d = disc_d.saturating_sub(2 * margin).max(1);
        Self { disc_d, logo_d }
    }
}

trait ToRgbaOpaque {
    fn to_rgba8_opaque(&self) -> RgbaImage;
}

impl ToRgbaOpaque for GrayImage {
    fn to_rgba8_opaque(&self) -> RgbaImage {
        RgbaImage::from_fn(self.width(), self.height(), |x, y| {
            let v = self.get_pixel(x, y)[0];
            Rgba([v, v, v, 255])
        })
    }
}

/// Fraction of the pixel at (x, y) inside a circle, with a one-pixel soft edge.
fn coverage(x: u32, y: u32, cx: f32, cy: f32, r: f32) -> f32 {
    let dx = x as f32 + 0.5 - cx;
    let dy = y as f32 + 0.5 - cy;
    (r - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0.0, 1.0)
}

fn draw_disc(img: &mut RgbaImage, c: f32, r: f32) {
    let lo = (c - r - 1.0).max(0.0) as u32;
    let hi = ((c + r + 1.0) as u32).min(img.width());
    for y in lo..hi.min(img.height()) {
        for x in lo..hi {
            let a = coverage(x, y, c, c, r);
            if a > 0.0 {
                let p = img.get_pixel_mut(x, y);
                for ch in 0..3 {
                    p[ch] = (p[ch] as f32 * (1.0 - a) + 255.0 * a).round() as u8;
                }
            }
        }
    }
}

/// The logo cropped to a centred square, scaled to `side`, and masked to a circle.
fn round_logo(logo: &RgbaImage, side: u32) -> RgbaImage {
    let sq = logo.width().min(logo.height()).max(1);
    let x0 = (logo.width() - sq.min(logo.width())) / 2;
    let y0 = (logo.height() - sq.min(logo.height())) / 2;
    let square = image::imageops::crop_imm(logo, x0, y0, sq, sq).to_image();
    let mut out =
        image::imageops::resize(&square, side, side, image::imageops::FilterType::Lanczos3);
    let c = side as f32 / 2.0;
    for (x, y, p) in out.enumerate_pixels_mut() {
        let a = coverage(x, y, c, c, c);
        p[3] = (p[3] as f32 * a).round() as u8;
    }
    out
}

fn encode_png_rgba(img: &RgbaImage) -> Result<Vec<u8>, QrError> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| QrError::Image(e.to_string()))?;
    Ok(out)
}

fn svg_data_url(svg: &str) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

fn png_data_url(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(url: &str) -> Vec<u8> {
        let b64 = url
            .strip_prefix("data:image/png;base64,")
            .expect("png data url");
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64")
    }

    #[test]
    fn png_modules_are_whole_pixels() {
        let r = render("https://example.com/s/abc", &QrOptions::default()).unwrap();
        let img = image::load_from_memory(&png_bytes(&r.png_data_url))
            .unwrap()
            .to_luma8();
        let total = r.modules as u32 + 8;
        assert_eq!(img.width() % total, 0);
        let scale = img.width() / total;
        assert!(
            img.width() <= 512 && img.width() + total > 512,
            "largest scale that fits"
        );
        // Only pure black and white, and each module a uniform block.
        for (x, y, p) in img.enumerate_pixels() {
            assert!(p[0] == 0 || p[0] == 255);
            assert_eq!(p[0], img.get_pixel(x / scale * scale, y / scale * scale)[0]);
        }
        // Quiet zone is light.
        for i in 0..4 * scale {
            assert_eq!(img.get_pixel(i, i)[0], 255);
        }
    }

    #[test]
    fn inverted_codes_need_the_inverted_pass() {
        let grid = Grid::encode("https://a.io/s/dark", EcLevel::M).unwrap();
        let mut img = grid.raster(4, 8);
        assert_eq!(scan(&img).len(), 1);
        image::imageops::invert(&mut img);
        assert!(
            scan(&img).is_empty(),
            "rqrr alone does not read light-on-dark"
        );
        assert_eq!(
            decode_luma(&img).unwrap(),
            vec!["https://a.io/s/dark".to_owned()]
        );
    }

    #[test]
    fn logo_geometry_is_a_fifth() {
        let g = LogoGeometry::new(500, 10);
        assert_eq!(g.disc_d, 100);
        assert!(g.logo_d < g.disc_d && g.logo_d >= 70);
    }
}
