//! Who the client is. Behind a reverse proxy every TCP peer is the proxy, so when (and only
//! when) the peer is a trusted proxy, the client is the right-most untrusted hop of
//! `X-Forwarded-For` (or, without that header, of `Forwarded`). From any other peer those headers
//! are ignored: spoofing them changes nothing. The result feeds the rate limits, the approval
//! page, `lastIP` and the logs; handlers get it with [`ClientAddr`] (or the `ConnectInfo`
//! axum already passes them, which `conn` sets to the client's address).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose connections may name the client in forwarding headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No proxy is trusted: the TCP peer is the client.
    pub fn none() -> Self {
        TrustedProxies(Vec::new())
    }

    /// Parses `CIDR` or a bare address (a /32 or /128), several separated by commas or spaces.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            nets.push(parse_net(item)?);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn push(&mut self, net: IpNet) {
        self.0.push(net);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// One CIDR (`10.0.0.0/8`, `::1/128`) or address (`127.0.0.1`).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(n) = IpNet::from_str(s) {
        return Ok(n.trunc());
    }
    IpAddr::from_str(s)
        .map(IpNet::from)
        .map_err(|_| format!("{s:?} is not an address or CIDR (e.g. 10.0.0.0/8, ::1)"))
}

/// The client's address as this server judges it (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The TCP peer itself (the proxy, when there is one), for the few places that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // `conn` inserts it into every request; the unspecified address only in unit tests of
        // routers served some other way.
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

/// The client of a request that came from `peer` with `headers`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    // Walk from the nearest hop outwards; the first one we do not trust is the client. A hop
    // we cannot read ends the walk at the last address we could vouch for.
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop else {
            return client;
        };
        client = canonical(*ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// The hops of `X-Forwarded-For` (all its lines, in order), or else of `Forwarded`'s `for=`.
/// `None` is a hop that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|line| line.split(','))
            .map(|hop| parse_hop(hop.trim()))
            .collect();
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            })
        })
        .map(|v| parse_hop(v.trim_matches('"')))
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(ip);
    }
    if let Ok(sa) = SocketAddr::from_str(hop) {
        return Some(sa.ip());
    }
    let inner = hop.strip_prefix('[')?.split(']').next()?;
    IpAddr::from_str(inner).ok()
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Whether two addresses are on different networks, as the approval page warns: IPv4 per
/// /24, IPv6 per /48; an IPv4 and an IPv6 address always differ.
pub fn different_networks(a: IpAddr, b: IpAddr) -> bool {
    match (canonical(a), canonical(b)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] != b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..3] != b.segments()[..3],
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").expect("cidr");
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(resolve(ip("203.0.113.9"), &h, &trusted), ip("203.0.113.9"));
        assert_eq!(
            resolve(ip("10.1.1.1"), &h, &TrustedProxies::none()),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").expect("cidrs");
        // The client sent a forged first hop; the proxies appended the truth after it.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.8"));
        // Every hop trusted: the left-most one.
        let h = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &trusted), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_one() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").expect("cidr");
        let h = headers(&[("x-forwarded-for", "1.1.1.1, garbage")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = TrustedProxies::parse("::1, 127.0.0.1").expect("cidrs");
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https",
        )]);
        assert_eq!(resolve(ip("::1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=203.0.113.43")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("192.0.2.60"));
    }

    #[test]
    fn mapped_ipv4_matches_ipv4_cidrs() {
        let trusted = TrustedProxies::parse("127.0.0.0/8").expect("cidr");
        let h = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn bad_cidrs_are_refused_with_the_value() {
        let e = TrustedProxies::parse("10.0.0.0/33").expect_err("bad");
        assert!(e.contains("10.0.0.0/33"), "{e}");
    }

    #[test]
    fn networks_differ_per_24_and_48() {
        assert!(!different_networks(ip("192.0.2.1"), ip("192.0.2.200")));
        assert!(different_networks(ip("192.0.2.1"), ip("192.0.3.1")));
        assert!(!different_networks(
            ip("2001:db8:1::1"),
            ip("2001:db8:1:ff::2")
        ));
        assert!(different_networks(ip("2001:db8:1::1"), ip("2001:db8:2::1")));
        assert!(different_networks(ip("192.0.2.1"), ip("2001:db8::1")));
    }
}
