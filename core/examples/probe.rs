//! The probe of `shared/contracts.md`: reads all of stdin, feeds it to one
//! connection (whole or in `--split N` pieces), and prints one JSON line per
//! event. In the server role it answers each request before going on.
//!
//! ```text
//! probe [--role server|client] [--split N] [--method M]... [--upgrade TOKEN]
//! ```

use std::io::{Read, Write};
use std::process::ExitCode;

use h1::http::{header, HeaderMap, Method, Request, Response, StatusCode, Version};
use h1::{Config, Connection, Event, ReasonPhrase, Role, State};
use serde_json::{json, Value};

struct Args {
    role: Role,
    split: Option<usize>,
    methods: Vec<String>,
    upgrade: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        role: Role::Server,
        split: None,
        methods: Vec::new(),
        upgrade: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => {
                args.role = match value()?.as_str() {
                    "server" => Role::Server,
                    "client" => Role::Client,
                    other => return Err(format!("unknown role {other:?}")),
                }
            }
            "--split" => {
                let n: usize = value()?
                    .parse()
                    .map_err(|_| "--split takes a number".to_string())?;
                args.split = (n > 0).then_some(n);
            }
            "--method" => args.methods.push(value()?),
            "--upgrade" => args.upgrade = Some(value()?),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if args.methods.is_empty() {
        args.methods.push("GET".into());
    }
    Ok(args)
}

/// Bytes as a JSON string, one char per byte (latin-1).
fn latin1(bytes: &[u8]) -> Value {
    Value::String(bytes.iter().map(|&b| char::from(b)).collect())
}

fn headers_json(headers: &HeaderMap) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(n, v)| json!([n.as_str(), latin1(trim(v.as_bytes()))]))
            .collect(),
    )
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &v[start..end]
}

fn version(v: Version) -> &'static str {
    if v == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    }
}

/// What the server role answers a complete request with.
fn answer(conn: &mut Connection, method: &Method, upgrade: Option<String>) -> Result<(), h1::Error> {
    let res = if *method == Method::CONNECT {
        Response::builder().status(StatusCode::OK)
    } else if let Some(token) = upgrade {
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::UPGRADE, token)
            .header(header::CONNECTION, "upgrade")
    } else {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, "0")
    };
    let res = res.body(()).expect("static response parts are valid");
    let switching = res.status() == StatusCode::SWITCHING_PROTOCOLS || *method == Method::CONNECT;
    conn.send_response(res)?;
    if !switching {
        conn.send_end()?;
    }
    Ok(())
}

/// One JSON line, with every non-ASCII character escaped as `\uNNNN` so
/// that readers splitting on Unicode line breaks (such as U+0085) see one
/// line per event.
fn emit(out: &mut impl Write, v: Value) {
    let mut line = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            line.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                line.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    let _ = writeln!(out, "{line}");
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("probe: {e}");
            return ExitCode::from(2);
        }
    };
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("probe: reading stdin: {e}");
        return ExitCode::from(1);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut conn = Connection::new(args.role, Config::default());

    if args.role == Role::Client {
        for (i, m) in args.methods.iter().enumerate() {
            let Ok(method) = Method::from_bytes(m.as_bytes()) else {
                eprintln!("probe: bad method {m:?}");
                return ExitCode::from(2);
            };
            let uri = if method == Method::CONNECT {
                "example.com:443"
            } else {
                "/"
            };
            let mut req = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::HOST, "example.com");
            if let (0, Some(token)) = (i, &args.upgrade) {
                req = req
                    .header(header::CONNECTION, "upgrade")
                    .header(header::UPGRADE, token.as_str());
            }
            let req = req.body(()).expect("static request parts are valid");
            if let Err(e) = conn.send_request(req).and_then(|()| conn.send_end()) {
                eprintln!("probe: sending request: {e}");
                return ExitCode::from(2);
            }
        }
    }

    let step = args.split.unwrap_or(input.len().max(1));
    let mut fed = 0;
    let mut current: Option<(Method, Option<String>)> = None;
    loop {
        let at_eof = fed == input.len();
        let fed_ok = if at_eof {
            conn.receive_eof()
        } else {
            let end = (fed + step).min(input.len());
            let r = conn.receive(&input[fed..end]);
            fed = end;
            r
        };
        if let Err(e) = fed_ok {
            eprintln!("probe: feeding input: {e}");
            return ExitCode::from(1);
        }
        // Drain events; `true` means stop for good.
        let stop = loop {
            let event = match conn.poll_event() {
                Ok(e) => e,
                Err(e) => {
                    let status = match (args.role, e.status()) {
                        (Role::Server, Some(s)) => json!(s.as_u16()),
                        _ => Value::Null,
                    };
                    emit(
                        &mut out,
                        json!({"event": "error", "status": status, "reason": e.to_string()}),
                    );
                    break true;
                }
            };
            match event {
                Event::NeedData | Event::Paused => break false,
                Event::Request(req) => {
                    current = Some((
                        req.method().clone(),
                        h1::requested_upgrade(&req).map(str::to_owned),
                    ));
                    emit(
                        &mut out,
                        json!({
                            "event": "request",
                            "method": req.method().as_str(),
                            "target": req.uri().to_string(),
                            "version": version(req.version()),
                            "headers": headers_json(req.headers()),
                        }),
                    );
                }
                Event::Informational(res) | Event::Response(res) => {
                    let reason = match res.extensions().get::<ReasonPhrase>() {
                        Some(r) => latin1(&r.0),
                        None => json!(res.status().canonical_reason().unwrap_or("")),
                    };
                    emit(
                        &mut out,
                        json!({
                            "event": "response",
                            "status": res.status().as_u16(),
                            "reason": reason,
                            "version": version(res.version()),
                            "headers": headers_json(res.headers()),
                        }),
                    );
                }
                Event::Data(d) => emit(&mut out, json!({"event": "data", "data": latin1(&d)})),
                Event::Trailers(t) => emit(
                    &mut out,
                    json!({"event": "trailers", "headers": headers_json(&t)}),
                ),
                Event::End => {
                    emit(&mut out, json!({"event": "end"}));
                    if let (Role::Server, Some((method, upgrade))) = (args.role, current.take()) {
                        if let Err(e) = answer(&mut conn, &method, upgrade) {
                            eprintln!("probe: answering: {e}");
                            return ExitCode::from(1);
                        }
                        while conn.poll_transmit().is_some() {}
                        if conn.our_state() == State::MustClose {
                            break true;
                        }
                    }
                }
                Event::Upgrade { leftover } => {
                    let mut all = leftover.to_vec();
                    all.extend_from_slice(&input[fed..]);
                    emit(&mut out, json!({"event": "upgrade", "leftover": latin1(&all)}));
                    break true;
                }
                Event::Closed => {
                    emit(&mut out, json!({"event": "closed"}));
                    break true;
                }
                other => {
                    eprintln!("probe: unexpected event {other:?}");
                    return ExitCode::from(1);
                }
            }
        };
        if stop || at_eof {
            break;
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
