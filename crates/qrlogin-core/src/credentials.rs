//! A signed-in session's credentials (access token, refresh token, their times) and the two
//! decisions made from them: when to refresh, and what to do with a remembered session at start.
//! Pure: no I/O, the clock is passed in.

use crate::oauth::Refreshed;
use crate::profile::AuthSession;
use crate::secret::Secret;

/// Refresh once less than this share of the access token's lifetime is left...
const REFRESH_AT_REMAINING_SHARE: f64 = 0.2;
/// ...but never later than this before it expires (a 2-minute token still gets a minute).
const REFRESH_MIN_LEAD_MS: i64 = 60_000;

/// The tokens of one session, as the shell keeps them. Never serialized by this crate: the shell
/// writes them to its token store only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// What is presented: G1–G3 the user's `token`, G4 the `access_token`.
    pub access_token: Secret,
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// When the access token was issued and when it expires, ms since the Unix epoch.
    pub issued_at: i64,
    pub expires_at: Option<i64>,
}

impl Credentials {
    /// The credentials of a fresh login, issued `now`.
    pub fn from_session(session: &AuthSession, now: i64) -> Self {
        Self {
            access_token: session.token.clone(),
            id_token: session.id_token.clone(),
            refresh_token: session.refresh_token.clone(),
            issued_at: now,
            expires_at: session.expires_at,
        }
    }

    /// The credentials after a refresh at `now`. A server that does not rotate keeps the old
    /// refresh token valid, so it is kept.
    pub fn refreshed(&self, r: Refreshed, now: i64) -> Self {
        let expires_at = r
            .expires_in
            .map(|s| {
                now.saturating_add(
                    i64::try_from(s)
                        .unwrap_or(i64::MAX / 2)
                        .saturating_mul(1000),
                )
            })
            .or_else(|| crate::profile::fresh_jwt_expiry_ms(r.access_token.expose(), now));
        Self {
            access_token: r.access_token,
            id_token: r.id_token.or_else(|| self.id_token.clone()),
            refresh_token: r.refresh_token.or_else(|| self.refresh_token.clone()),
            issued_at: now,
            expires_at,
        }
    }

    /// When to refresh: once 20 % of the lifetime is left, and at least a minute before expiry.
    /// `None` when the token never expires (nothing to refresh).
    pub fn refresh_due_at(&self) -> Option<i64> {
        let expires = self.expires_at?;
        let lifetime = expires.saturating_sub(self.issued_at).max(0);
        let share = (lifetime as f64 * REFRESH_AT_REMAINING_SHARE) as i64;
        Some(expires.saturating_sub(share.max(REFRESH_MIN_LEAD_MS)))
    }

    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    pub fn can_refresh(&self) -> bool {
        self.refresh_token.as_ref().is_some_and(|r| !r.is_empty())
    }

    /// What a restart does with these remembered credentials.
    pub fn restore_plan(&self, now: i64) -> RestorePlan {
        let due = self.refresh_due_at().is_some_and(|at| at <= now);
        match (due, self.can_refresh(), self.is_expired(now)) {
            (true, true, _) => RestorePlan::RefreshFirst,
            (_, false, true) => RestorePlan::Expired,
            _ => RestorePlan::Check,
        }
    }
}

/// The restore decision (contract: "refresh when a remembered session is restored with an
/// expired or near-expired access token").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePlan {
    /// The access token has time left: check it with the server as it is.
    Check,
    /// Near or past expiry with a refresh token: refresh, then use the new token.
    RefreshFirst,
    /// Expired and nothing to refresh it with: the session is over.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn creds(issued: i64, expires: Option<i64>, refresh: bool) -> Credentials {
        Credentials {
            access_token: Secret::new("a"),
            id_token: None,
            refresh_token: refresh.then(|| Secret::new("r")),
            issued_at: issued,
            expires_at: expires,
        }
    }

    #[test]
    fn refresh_when_a_fifth_is_left_or_a_minute() {
        // One hour: 12 minutes before the end.
        assert_eq!(creds(0, Some(H), true).refresh_due_at(), Some(H - H / 5));
        // Two minutes: a fifth would be 24 s, the minimum lead is a minute.
        assert_eq!(creds(0, Some(120_000), true).refresh_due_at(), Some(60_000));
        assert_eq!(creds(0, None, true).refresh_due_at(), None);
    }

    #[test]
    fn restore_decisions() {
        let now = 10 * H;
        // Fresh: check as is.
        assert_eq!(
            creds(now - 1000, Some(now + H), true).restore_plan(now),
            RestorePlan::Check
        );
        // Near expiry or expired with a refresh token: refresh first.
        assert_eq!(
            creds(now - H + 60_000, Some(now + 60_000), true).restore_plan(now),
            RestorePlan::RefreshFirst
        );
        assert_eq!(
            creds(now - 2 * H, Some(now - H), true).restore_plan(now),
            RestorePlan::RefreshFirst
        );
        // Expired without one: over. Near expiry without one: still usable, check it.
        assert_eq!(
            creds(now - 2 * H, Some(now - H), false).restore_plan(now),
            RestorePlan::Expired
        );
        assert_eq!(
            creds(now - H, Some(now + 1000), false).restore_plan(now),
            RestorePlan::Check
        );
        // No expiry known: check.
        assert_eq!(creds(0, None, false).restore_plan(now), RestorePlan::Check);
    }

    #[test]
    fn refreshed_keeps_what_the_server_did_not_replace() {
        let old = Credentials {
            id_token: Some(Secret::new("id")),
            ..creds(0, Some(H), true)
        };
        let new = old.refreshed(
            Refreshed {
                access_token: Secret::new("a2"),
                id_token: None,
                refresh_token: None,
                expires_in: Some(3600),
            },
            5_000,
        );
        assert_eq!(new.access_token.expose(), "a2");
        assert_eq!(new.refresh_token.as_ref().unwrap().expose(), "r");
        assert_eq!(new.id_token.as_ref().unwrap().expose(), "id");
        assert_eq!((new.issued_at, new.expires_at), (5_000, Some(5_000 + H)));
        let rotated = old.refreshed(
            Refreshed {
                access_token: Secret::new("a3"),
                id_token: None,
                refresh_token: Some(Secret::new("r2")),
                expires_in: None,
            },
            0,
        );
        assert_eq!(rotated.refresh_token.unwrap().expose(), "r2");
    }
}
