//! Images the server makes itself: the PNG of a session's QR (for SDKs that only show an image)
//! and a default avatar per user (so every user has a photo a desktop can show).

use std::io::Cursor;

use image::{ImageFormat, Luma, Rgb, RgbImage};
use sha2::{Digest, Sha256};

/// The QR of `content`, black on white, 8 px modules, a 4-module quiet zone.
pub fn qr_png(content: &str) -> Result<Vec<u8>, String> {
    let code = qrcode::QrCode::new(content.as_bytes()).map_err(|e| e.to_string())?;
    let img = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(8, 8)
        .dark_color(Luma([0]))
        .light_color(Luma([255]))
        .build();
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A 5x5 mirrored identicon (120 px) whose pattern and colour come from the user id.
pub fn avatar_png(seed: &str) -> Result<Vec<u8>, String> {
    const CELL: u32 = 20;
    const MARGIN: u32 = 10;
    let hash = Sha256::digest(seed.as_bytes());
    let colour = Rgb([64 + hash[0] % 160, 64 + hash[1] % 160, 64 + hash[2] % 160]);
    let background = Rgb([240, 240, 240]);
    let size = 5 * CELL + 2 * MARGIN;
    let mut img = RgbImage::from_pixel(size, size, background);
    for row in 0..5u32 {
        for col in 0..3u32 {
            let bit = hash[3 + (row * 3 + col) as usize] & 1 == 1;
            if !bit {
                continue;
            }
            for mirrored in [col, 4 - col] {
                let (x0, y0) = (MARGIN + mirrored * CELL, MARGIN + row * CELL);
                for y in y0..y0 + CELL {
                    for x in x0..x0 + CELL {
                        img.put_pixel(x, y, colour);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_png_is_a_png_with_a_white_quiet_zone() {
        let png = qr_png("http://127.0.0.1:1/s/abc").expect("png");
        let img = image::load_from_memory(&png).expect("decodes").to_luma8();
        assert_eq!(img.get_pixel(0, 0).0[0], 255, "corner must be quiet zone");
        assert!(img.pixels().any(|p| p.0[0] == 0), "no dark modules");
        assert_eq!(img.width() % 8, 0);
    }

    #[test]
    fn avatars_differ_per_user() {
        assert_ne!(avatar_png("a").expect("png"), avatar_png("b").expect("png"));
    }
}
