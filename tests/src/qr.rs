//! Reads QR codes off a screenshot, as a phone camera would: pixels in, text out.
//!
//! Decoding is done here with `rqrr` directly rather than with the engine's own helper, so that the
//! test's eye is independent of the code under test.

/// Every QR code that decodes in the PNG, in the order `rqrr` finds them.
pub fn decode(png: &[u8]) -> Vec<String> {
    let img = match image::load_from_memory(png) {
        Ok(img) => img.to_luma8(),
        Err(e) => panic!("the screenshot is not a readable image: {e}"),
    };
    decode_gray(img)
}

/// Every QR code in a grey image (a screen read without a driver: bare.rs).
pub fn decode_gray(img: image::GrayImage) -> Vec<String> {
    let mut found = decode_luma(img.clone());
    if found.is_empty() {
        // A dark theme draws light modules on dark: a camera app copes by trying the negative.
        let mut inverted = img;
        image::imageops::invert(&mut inverted);
        found = decode_luma(inverted);
    }
    found
}

fn decode_luma(img: image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_meta, text)| text))
        .collect()
}

/// The average colour of a rectangle of the PNG (x, y, width, height in image pixels).
pub fn mean_rgb(png: &[u8], rect: (u32, u32, u32, u32)) -> [u8; 3] {
    let img = image::load_from_memory(png)
        .expect("the screenshot is not a readable image")
        .to_rgb8();
    let (x0, y0, w, h) = rect;
    let (mut sum, mut n) = ([0u64; 3], 0u64);
    for y in y0..(y0 + h).min(img.height()) {
        for x in x0..(x0 + w).min(img.width()) {
            let p = img.get_pixel(x, y).0;
            for c in 0..3 {
                sum[c] += u64::from(p[c]);
            }
            n += 1;
        }
    }
    assert!(n > 0, "rectangle {rect:?} is outside the screenshot");
    [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]
}
