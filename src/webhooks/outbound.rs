//! The relay's HTTP client, and what it refuses to reach.
//!
//! A tenant chooses the URL, so every delivery is a request the service makes on a stranger's
//! behalf (server-side request forgery). The client:
//! - resolves the host itself ([`GuardedResolver`]) and connects only to addresses that are
//!   public: loopback, private, link-local (169.254.169.254, the cloud metadata service),
//!   carrier-grade NAT, multicast, documentation and reserved ranges are refused, for IPv4,
//!   IPv6 and IPv4 inside IPv6. The check is on the resolved addresses, the ones connected
//!   to, so a name that resolves to 127.0.0.1 is refused like 127.0.0.1 itself; an address
//!   written in the URL is checked the same way before the request;
//! - follows no redirect (a 3xx is a failed attempt), uses no proxy and no cookies;
//! - has a connect timeout and a timeout for the whole attempt;
//! - reads at most [`MAX_RESPONSE_BYTES`] of the response, and keeps only a short snippet.
//!
//! `TENANTRY_WEBHOOK_ALLOW_PRIVATE=true` lifts the address check, for development and tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The most of a response body the relay reads.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// The most of a response body that is stored and shown (characters).
pub const SNIPPET_CHARS: usize = 256;

/// How an attempt ended, as stored (`last_error`) and counted (metric label): a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The endpoint answered with a status outside 2xx (redirects included).
    HttpStatus,
    Timeout,
    Connect,
    /// Every address the host resolves to (or the address in the URL) is refused.
    RefusedAddress,
    InvalidUrl,
    /// Any other failure of the request.
    Request,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::HttpStatus => "http_status",
            Failure::Timeout => "timeout",
            Failure::Connect => "connect",
            Failure::RefusedAddress => "refused_address",
            Failure::InvalidUrl => "invalid_url",
            Failure::Request => "request",
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<u16>,
    pub failure: Option<Failure>,
    pub snippet: Option<String>,
    pub latency: Duration,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// Whether the relay may connect to `ip`: false for every address that is not public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network"
        || a == 10                              // private
        || a == 127                             // loopback
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT (and 100.100.100.200)
        || (a == 169 && b == 254)               // link-local, the metadata service
        || (a == 172 && (16..32).contains(&b))  // private
        || (a == 192 && b == 0 && c == 0)       // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)       // documentation
        || (a == 192 && b == 88 && c == 99)     // 6to4 relay anycast
        || (a == 192 && b == 168)               // private
        || (a == 198 && (b == 18 || b == 19))   // benchmarking
        || (a == 198 && b == 51 && c == 100)    // documentation
        || (a == 203 && b == 0 && c == 113)     // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0]       // IPv4-compatible (deprecated)
        || (s[0] & 0xfe00) == 0xfc00           // unique local (fd00:ec2::254, a metadata service)
        || (s[0] & 0xffc0) == 0xfe80           // link-local
        || (s[0] & 0xffc0) == 0xfec0           // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00           // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8)  // documentation
        || s[0] == 0x2002                      // 6to4: an IPv4 address inside
        || (s[0] == 0x2001 && s[1] == 0)) // Teredo: an IPv4 address inside
}

/// The refusal, carried through reqwest's error chain so that [`classify`] can name it.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves to no public address")]
pub struct RefusedAddress;

/// Resolves with the system resolver, then keeps only public addresses (all of them when
/// private ones are allowed); none left is [`RefusedAddress`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if resolved.is_empty() {
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(resolved.into_iter()) as Addrs)
        })
    }
}

/// The relay's client.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

/// The client's limits.
#[derive(Debug, Clone, Copy)]
pub struct OutboundSettings {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub allow_private: bool,
}

impl Outbound {
    pub fn new(settings: OutboundSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("tenantry-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private: settings.allow_private,
        })
    }

    /// Whether `url` may be sent to, as far as its text tells (scheme, credentials, an address
    /// written in it); the addresses a name resolves to are checked at each attempt.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, Failure> {
        check_url(url, self.allow_private)
    }

    /// POSTs `body` with `headers` to `url`: one attempt.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let url = match self.check_url(url) {
            Ok(url) => url,
            Err(failure) => {
                return Attempt {
                    status: None,
                    failure: Some(failure),
                    snippet: None,
                    latency: started.elapsed(),
                };
            }
        };
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Err(err) => Attempt {
                status: None,
                failure: Some(classify(&err)),
                snippet: None,
                latency: started.elapsed(),
            },
            Ok(mut response) => {
                let status = response.status();
                let mut read = Vec::new();
                let mut failure = None;
                while read.len() < MAX_RESPONSE_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                        Ok(None) => break,
                        Err(err) => {
                            failure = Some(classify(&err));
                            break;
                        }
                    }
                }
                let latency = started.elapsed();
                read.truncate(MAX_RESPONSE_BYTES);
                // Dropping the response closes the connection if more was coming.
                drop(response);
                let snippet: String = String::from_utf8_lossy(&read)
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\n')
                    .take(SNIPPET_CHARS)
                    .collect();
                if !status.is_success() {
                    failure = Some(Failure::HttpStatus);
                }
                Attempt {
                    status: Some(status.as_u16()),
                    failure: if status.is_success() { None } else { failure },
                    snippet: (!snippet.is_empty()).then_some(snippet),
                    latency,
                }
            }
        }
    }
}

/// The rules a webhook URL's text must follow: http or https, a host, no credentials, no
/// fragment, and no refused address written as the host.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, Failure> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Failure::InvalidUrl)?;
    if !matches!(parsed.scheme(), "http" | "https")
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.fragment().is_some()
    {
        return Err(Failure::InvalidUrl);
    }
    let ip = match parsed.host() {
        None => return Err(Failure::InvalidUrl),
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if let Some(ip) = ip
        && !allow_private
        && !is_public(ip)
    {
        return Err(Failure::RefusedAddress);
    }
    Ok(parsed)
}

/// Names a reqwest error from the closed set.
fn classify(err: &reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<RefusedAddress>() {
            return Failure::RefusedAddress;
        }
        source = current.source();
    }
    if err.is_timeout() {
        Failure::Timeout
    } else if err.is_connect() {
        Failure::Connect
    } else {
        Failure::Request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(is_public(ip), "{ip} is public");
        }
    }

    #[test]
    fn a_url_must_be_http_without_credentials_or_a_refused_literal_address() {
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert_eq!(
            check_url("ftp://example.com/", false).err(),
            Some(Failure::InvalidUrl)
        );
        assert_eq!(
            check_url("https://user:pw@example.com/", false).err(),
            Some(Failure::InvalidUrl)
        );
        assert_eq!(
            check_url("http://169.254.169.254/latest/meta-data", false).err(),
            Some(Failure::RefusedAddress)
        );
        assert_eq!(
            check_url("http://[::1]:8080/", false).err(),
            Some(Failure::RefusedAddress)
        );
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
    }
}
