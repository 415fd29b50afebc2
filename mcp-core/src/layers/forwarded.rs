//! Which address a request really came from, when it passed through reverse proxies.
//!
//! `X-Forwarded-For` is believed only as far as it was written by proxies you trust: a client
//! can put anything in it, so taking its first entry would let every client choose its own
//! rate-limit key. [`TrustedProxies::resolve`] walks the header from the right (the hop
//! nearest to us), skipping trusted proxies, and stops at the first address that is not one.
//!
//! ```
//! use std::net::SocketAddr;
//! use mcp_core::layers::TrustedProxies;
//!
//! let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
//! let lb: SocketAddr = "10.1.2.3:50000".parse().unwrap();
//! // Behind the load balancer: the client is the last untrusted hop.
//! assert_eq!(proxies.resolve(lb, ["6.6.6.6, 203.0.113.7"]).ip().to_string(), "203.0.113.7");
//! // Straight from the internet: the header is ignored.
//! let direct: SocketAddr = "198.51.100.1:4000".parse().unwrap();
//! assert_eq!(proxies.resolve(direct, ["1.2.3.4"]), direct);
//! ```

use std::net::{IpAddr, SocketAddr};

/// The proxies whose `X-Forwarded-For` entries are believed: addresses or CIDR ranges.
/// Empty by default: the header is ignored and the peer address is the client.
///
/// ```
/// use mcp_core::layers::TrustedProxies;
/// assert!(TrustedProxies::new(["127.0.0.1", "fd00::/8"]).is_ok());
/// assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<(IpAddr, u8)>,
}

/// A trusted-proxy entry that is not an address or CIDR range.
///
/// ```
/// use mcp_core::layers::TrustedProxies;
/// let err = TrustedProxies::new(["proxy.local"]).unwrap_err();
/// assert_eq!(err.to_string(), "not an IP address or CIDR range: \"proxy.local\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR range: {0:?}")]
pub struct InvalidProxy(pub String);

impl TrustedProxies {
    /// Trusts these addresses (`10.0.0.7`, `::1`) and ranges (`10.0.0.0/8`, `fd00::/8`).
    ///
    /// See [`TrustedProxies`] for an example.
    pub fn new<I: IntoIterator<Item = impl AsRef<str>>>(
        entries: I,
    ) -> Result<TrustedProxies, InvalidProxy> {
        let mut ranges = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let invalid = || InvalidProxy(entry.to_owned());
            let (addr, len) = match entry.split_once('/') {
                Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| invalid())?)),
                None => (entry, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| invalid())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = len.unwrap_or(max);
            if len > max {
                return Err(invalid());
            }
            ranges.push((ip, len));
        }
        Ok(TrustedProxies { ranges })
    }

    /// Whether `ip` is a trusted proxy.
    ///
    /// ```
    /// # use mcp_core::layers::TrustedProxies;
    /// let p = TrustedProxies::new(["192.168.0.0/16"]).unwrap();
    /// assert!(p.is_trusted("192.168.4.4".parse().unwrap()));
    /// assert!(!p.is_trusted("192.169.0.1".parse().unwrap()));
    /// ```
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.ranges
            .iter()
            .any(|&(net, len)| in_range(ip, canonical(net), len))
    }

    /// The client's address: `peer` itself unless `peer` is a trusted proxy, else the
    /// right-most `X-Forwarded-For` entry that is not a trusted proxy (or the left-most entry
    /// when all are). `forwarded_for` holds the header's values, in order; an entry that is not
    /// an address ends the walk at the hop before it. The port of a forwarded address is not
    /// known and reported as 0.
    ///
    /// # Examples
    /// ```
    /// use std::net::SocketAddr;
    /// use mcp_core::layers::TrustedProxies;
    ///
    /// let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
    /// let balancer: SocketAddr = "10.0.0.2:40000".parse().unwrap();
    /// // The balancer appended the client's address; a spoofed entry before it is ignored.
    /// let client = proxies.resolve(balancer, ["6.6.6.6, 203.0.113.9"]);
    /// assert_eq!(client.ip().to_string(), "203.0.113.9");
    /// // A peer that is not a trusted proxy is the client, whatever the header says.
    /// let direct: SocketAddr = "198.51.100.1:5000".parse().unwrap();
    /// assert_eq!(proxies.resolve(direct, ["203.0.113.9"]), direct);
    /// ```
    pub fn resolve<I: IntoIterator<Item = impl AsRef<str>>>(
        &self,
        peer: SocketAddr,
        forwarded_for: I,
    ) -> SocketAddr {
        if !self.is_trusted(peer.ip()) {
            return peer;
        }
        let values: Vec<_> = forwarded_for.into_iter().collect();
        let hops = values
            .iter()
            .flat_map(|v| v.as_ref().split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = SocketAddr::new(ip, 0);
            if !self.is_trusted(ip) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_forge_their_address() {
        let p = TrustedProxies::default();
        assert_eq!(
            p.resolve(addr("127.0.0.1:1"), ["9.9.9.9"]),
            addr("127.0.0.1:1")
        );
    }

    #[test]
    fn chains_of_proxies_are_walked_from_the_right() {
        let p = TrustedProxies::new(["10.0.0.0/8", "127.0.0.1"]).unwrap();
        // client spoofs 1.1.1.1; real client 8.8.8.8; then two trusted hops.
        let r = p.resolve(addr("127.0.0.1:9"), ["1.1.1.1, 8.8.8.8", "10.0.0.2"]);
        assert_eq!(r.ip(), "8.8.8.8".parse::<IpAddr>().unwrap());
        // All trusted: the left-most entry.
        let r = p.resolve(addr("127.0.0.1:9"), ["10.0.0.9, 10.0.0.2"]);
        assert_eq!(r.ip(), "10.0.0.9".parse::<IpAddr>().unwrap());
        // Garbage stops the walk at the hop before it.
        let r = p.resolve(addr("127.0.0.1:9"), ["8.8.8.8, nonsense, 10.0.0.2"]);
        assert_eq!(r.ip(), "10.0.0.2".parse::<IpAddr>().unwrap());
        // No header: the proxy itself.
        let none: [&str; 0] = [];
        assert_eq!(p.resolve(addr("127.0.0.1:9"), none), addr("127.0.0.1:9"));
        // Ports and brackets.
        let r = p.resolve(addr("10.9.9.9:9"), ["[2001:db8::1]:443"]);
        assert_eq!(r.ip(), "2001:db8::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn mapped_addresses_and_zero_prefixes() {
        let p = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        assert!(p.is_trusted("::ffff:10.1.1.1".parse().unwrap()));
        let all = TrustedProxies::new(["0.0.0.0/0"]).unwrap();
        assert!(all.is_trusted("203.0.113.5".parse().unwrap()));
        assert!(!all.is_trusted("2001:db8::1".parse().unwrap()));
    }
}
