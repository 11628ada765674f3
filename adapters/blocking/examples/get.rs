//! A minimal HTTP/1.1 client: fetches one URL and prints the status line,
//! the header fields and the body.
//!
//! `cargo run -p h1-blocking --example get -- http://HOST[:PORT][/PATH]`

use std::error::Error;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use h1::http::{header, Request};
use h1::ReasonPhrase;
use h1_blocking::ClientConnection;

/// Where a URL points: `http://host[:port][/path]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// The host name or address (an IPv6 address keeps its brackets).
    pub host: String,
    /// The port, 80 when the URL gives none.
    pub port: u16,
    /// The path and query, `/` when the URL gives none.
    pub path: String,
}

impl Target {
    /// The `host` field: the host, and the port unless it is 80.
    pub fn authority(&self) -> String {
        match self.port {
            80 => self.host.clone(),
            port => format!("{}:{port}", self.host),
        }
    }
}

/// Parses an `http://` URL by hand.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = path.split('#').next().unwrap_or_default();
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    if authority.contains('@') {
        return Err(format!("{url}: user information is not supported"));
    }
    // The port follows the last colon, unless that colon is inside an
    // IPv6 literal.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            let port = &authority[i + 1..];
            let port = port.parse().map_err(|_| format!("{url}: bad port {port:?}"))?;
            (&authority[..i], port)
        }
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Target {
        host: host.to_string(),
        port,
        path,
    })
}

/// Fetches `url` with a GET and writes the status line, the header
/// fields, an empty line and the body to `out`.
pub fn get(url: &str, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let target = parse_url(url)?;
    let host = target.host.trim_start_matches('[').trim_end_matches(']');
    let socket = TcpStream::connect((host, target.port))?;
    socket.set_read_timeout(Some(Duration::from_secs(30)))?;
    let conn = ClientConnection::new(socket);
    let req = Request::get(target.path.as_str())
        .header(header::HOST, target.authority())
        .body(())?;
    conn.send_request(req)?;
    conn.send_end()?;
    let mut res = conn.read_response()?;
    while res.status().is_informational() && !conn.is_switched() {
        res = conn.read_response()?;
    }
    let reason = match res.extensions().get::<ReasonPhrase>() {
        Some(ReasonPhrase(phrase)) => String::from_utf8_lossy(phrase).into_owned(),
        None => res.status().canonical_reason().unwrap_or_default().to_string(),
    };
    writeln!(out, "{:?} {} {reason}", res.version(), res.status().as_u16())?;
    for (name, value) in res.headers() {
        writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
    }
    writeln!(out)?;
    std::io::copy(&mut conn.body_receiver(), out)?;
    out.flush()?;
    Ok(())
}

fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: get http://HOST[:PORT][/PATH]");
        std::process::exit(2);
    };
    if let Err(e) = get(&url, &mut std::io::stdout().lock()) {
        eprintln!("get: {e}");
        std::process::exit(1);
    }
}

// `cargo test` runs these (`test = true` for this example in Cargo.toml).
#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::thread;

    use h1::http::Response;
    use h1_blocking::serve;

    use super::*;

    fn target(host: &str, port: u16, path: &str) -> Target {
        Target {
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn urls_are_parsed_by_hand() {
        let cases = [
            ("http://example.com", target("example.com", 80, "/")),
            ("http://example.com/", target("example.com", 80, "/")),
            (
                "http://example.com:8080/a/b?c=d",
                target("example.com", 8080, "/a/b?c=d"),
            ),
            ("http://example.com?q", target("example.com", 80, "/?q")),
            ("http://example.com/x#frag", target("example.com", 80, "/x")),
            ("http://127.0.0.1:1/", target("127.0.0.1", 1, "/")),
            ("http://[::1]:8080/v6", target("[::1]", 8080, "/v6")),
            ("http://[::1]/v6", target("[::1]", 80, "/v6")),
        ];
        for (url, expected) in cases {
            assert_eq!(parse_url(url), Ok(expected), "{url}");
        }
        for bad in [
            "https://example.com/",
            "example.com",
            "http://:80/",
            "http://a:port/",
            "http://u@a/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(target("a", 80, "/").authority(), "a");
        assert_eq!(target("a", 81, "/").authority(), "a:81");
    }

    #[test]
    fn get_prints_status_headers_and_body() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        // One connection; the client's own timeouts bound the test, and a
        // client that fails ends the test before the server is joined.
        let server = thread::spawn(move || {
            let (socket, _) = listener.accept().expect("accept");
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("read timeout");
            serve(socket, h1::Config::default(), |req, conn| {
                let host = req.headers()["host"].to_str().expect("host").to_string();
                let body = format!("{} {} host={host}", req.method(), req.uri());
                let res = Response::builder()
                    .header("content-length", body.len())
                    .header("date", "Thu, 01 Jan 1970 00:00:00 GMT")
                    .header("x-a", "1")
                    .body(())
                    .expect("response");
                let mut rest = Vec::new();
                conn.body_receiver().read_to_end(&mut rest)?;
                conn.send_response(res)?;
                conn.send_data(body.into())?;
                conn.send_end()
            })
        });
        let mut out = Vec::new();
        get(&format!("http://{addr}/hello?x=1"), &mut out).expect("get");
        let out = String::from_utf8(out).expect("utf-8");
        let expected_body = format!("GET /hello?x=1 host={addr}");
        assert_eq!(
            out,
            format!(
                "HTTP/1.1 200 OK\ncontent-length: {}\ndate: Thu, 01 Jan 1970 00:00:00 GMT\nx-a: 1\n\n{expected_body}",
                expected_body.len()
            )
        );
        assert!(server.join().expect("server").is_ok());
    }
}
