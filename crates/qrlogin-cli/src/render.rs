//! The QR in a terminal: Unicode half blocks (two modules per character cell, `▀ ▄ █`), a
//! 4-module quiet zone as the standard asks. With colour, dark modules are black on a white
//! background whatever the terminal's theme, so the code reads the same on dark and light
//! themes; with `NO_COLOR`, the terminal's own colours are used (dark text on light expected;
//! phone scanners also read the inverted code a dark theme gives).

use qrcode::{Color, QrCode};

pub const QUIET: usize = 4;

/// The module grid of `text` (true = dark), without the quiet zone.
pub fn modules(text: &str) -> Result<Vec<Vec<bool>>, String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
    let w = code.width();
    let colors = code.to_colors();
    Ok((0..w)
        .map(|y| (0..w).map(|x| colors[y * w + x] == Color::Dark).collect())
        .collect())
}

/// The QR as lines of half blocks, quiet zone included.
pub fn half_blocks(text: &str, color: bool) -> Result<Vec<String>, String> {
    let grid = modules(text)?;
    let w = grid.len() + 2 * QUIET;
    let dark = |x: usize, y: usize| -> bool {
        x >= QUIET
            && y >= QUIET
            && x < QUIET + grid.len()
            && y < QUIET + grid.len()
            && grid[y - QUIET][x - QUIET]
    };
    let mut lines = Vec::new();
    let mut y = 0;
    while y < w {
        let mut line = String::new();
        if color {
            // Black modules on white, whatever the theme.
            line.push_str("\x1b[38;5;16;48;5;231m");
        }
        for x in 0..w {
            line.push(match (dark(x, y), y + 1 < w && dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if color {
            line.push_str("\x1b[0m");
        }
        lines.push(line);
        y += 2;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_module_rows_per_line_with_the_quiet_zone() {
        let grid = modules("https://example.test/device?user_code=WDJB-MJHT").unwrap();
        let lines = half_blocks("https://example.test/device?user_code=WDJB-MJHT", false).unwrap();
        let w = grid.len() + 2 * QUIET;
        assert_eq!(lines.len(), w.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == w));
        // The quiet zone: the first two lines are blank.
        assert!(lines[0].chars().all(|c| c == ' ') && lines[1].chars().all(|c| c == ' '));
        let colored = half_blocks("x", true).unwrap();
        assert!(
            colored[0].starts_with("\x1b[38;5;16;48;5;231m") && colored[0].ends_with("\x1b[0m")
        );
    }
}
