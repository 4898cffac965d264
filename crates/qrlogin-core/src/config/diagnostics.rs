//! What a bad config says: the error type, where in a file a problem is (line, column, dotted
//! key) and the "did you mean" hint for a misspelt name.

use std::path::PathBuf;

use crate::error::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that is not valid TOML or does not fit the schema.
    #[error("{}:{line}:{column}: {key}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Dotted key (`server.dialect`), or the section for a bad header; empty when unknown.
        key: String,
        message: String,
    },
    /// A bad environment variable or command-line value. `origin` names it, e.g.
    /// `QRLOGIN_SERVER_PORT` or `--set server.port`.
    #[error("{origin}: {key}: {message}")]
    Override {
        origin: String,
        key: String,
        message: String,
    },
    /// Keys that are each fine but do not fit together.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl From<ConfigError> for CoreError {
    fn from(e: ConfigError) -> Self {
        CoreError::Config(e.to_string())
    }
}

pub(super) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// The dotted key whose line holds `offset`: the last `[section]` above it plus the text before
/// `=` on the line. Good enough for error messages; the line number is given too.
pub(super) fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let line_end = text
        .get(offset..)
        .and_then(|s| s.find('\n'))
        .map(|i| offset + i)
        .unwrap_or(text.len());
    let line = text.get(line_start..line_end).unwrap_or("").trim();
    let header = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l.strip_prefix('[')?.split(']').next()?;
        Some(
            inner
                .trim()
                .trim_start_matches('[')
                .replace(['"', '\''], "")
                .replace(' ', ""),
        )
    };
    if line.starts_with('[') {
        return header(line).unwrap_or_default();
    }
    let section = text
        .get(..line_start)
        .unwrap_or("")
        .lines()
        .rev()
        .find_map(|l| l.trim_start().starts_with('[').then(|| header(l)).flatten())
        .unwrap_or_default();
    let name = line
        .split('=')
        .next()
        .unwrap_or("")
        .trim()
        .replace(['"', '\''], "");
    match (section.is_empty(), name.is_empty()) {
        (true, _) => name,
        (false, true) => section,
        (false, false) => format!("{section}.{name}"),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and "unknown variant"), suggest the
/// closest expected name.
pub(super) fn unknown_name_hint(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return String::new();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return String::new();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    did_you_mean(given, &candidates)
}

/// `" (did you mean `x`?)"` when a candidate is within a small edit distance, else `""`.
pub(crate) fn did_you_mean(given: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (edit_distance(given, c), *c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d > 0 && d <= (given.chars().count() / 3).max(2) => {
            format!(" (did you mean `{c}`?)")
        }
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_works() {
        assert_eq!(edit_distance("urll", "url"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("dialcet", &["dialect", "url"]),
            " (did you mean `dialect`?)"
        );
        assert_eq!(did_you_mean("zzzzzz", &["url"]), "");
    }

    #[test]
    fn key_at_finds_section_and_name() {
        let text = "[server]\nurl = \"x\"\n\n[tips.\"zh-CN\"]\ntitle = 1\n";
        assert_eq!(key_at(text, text.find("url").unwrap()), "server.url");
        assert_eq!(
            key_at(text, text.find("title").unwrap() + 8),
            "tips.zh-CN.title"
        );
        assert_eq!(line_col(text, text.find("title").unwrap()), (5, 1));
    }
}
