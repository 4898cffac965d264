//! App logos (`app add --logo FILE`): a PNG or JPEG within a size cap, decoded with limits and
//! stored re-encoded as a small PNG, so whatever the file held (metadata, trailing bytes, a
//! polyglot) never reaches a client. SVG is refused: no rasteriser is part of the server.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The largest file accepted.
pub const MAX_LOGO_FILE_BYTES: usize = 1024 * 1024;
/// The stored logo fits in this square (the desktop draws it at about a fifth of the QR).
pub const LOGO_SIDE: u32 = 256;

/// Checks and re-encodes a logo file; the error says what to do.
pub fn to_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.len() > MAX_LOGO_FILE_BYTES {
        return Err(format!(
            "the logo is {} bytes; at most {MAX_LOGO_FILE_BYTES} bytes",
            bytes.len()
        ));
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.trim_start().starts_with('<') || head.contains("<svg") {
        return Err("SVG logos are not accepted: export it as PNG (256x256 or larger)".into());
    }
    let format = image::guess_format(bytes).map_err(|_| "the logo is not a PNG or JPEG file")?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(format!("the logo is {format:?}; use PNG or JPEG"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("the logo cannot be read: {e}"))?;
    let img = if img.width() > LOGO_SIDE || img.height() > LOGO_SIDE {
        img.thumbnail(LOGO_SIDE, LOGO_SIDE)
    } else {
        img
    };
    let mut out = Vec::new();
    img.to_rgba8()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| format!("the logo cannot be stored: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_garbage_and_huge_files_are_refused_and_a_png_is_shrunk() {
        assert!(to_png(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
            .unwrap_err()
            .contains("SVG"));
        assert!(to_png(b"not an image").is_err());
        assert!(to_png(&vec![0u8; MAX_LOGO_FILE_BYTES + 1]).is_err());
        let mut big = Vec::new();
        image::RgbaImage::from_pixel(1000, 500, image::Rgba([200, 0, 0, 255]))
            .write_to(&mut Cursor::new(&mut big), ImageFormat::Png)
            .unwrap();
        let stored = to_png(&big).unwrap();
        let back = image::load_from_memory(&stored).unwrap();
        assert_eq!((back.width(), back.height()), (256, 128));
    }
}
