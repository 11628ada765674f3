//! The probe of `shared/contracts.md`: reads all of stdin, feeds it to one
//! connection (whole or in `--split N` pieces), and prints one JSON line per
//! event. In the server role it answers each request before going on.
//!
//! ```text
//! probe [--role server|client] [--split N] [--method M]... [--upgrade TOKEN]
//! ```

use std::io::{Read, Write};
use std::process::ExitCode;

use h1::http::{header, Method, Request, StatusCode, Version};
use h1::{Config, Connection, Event, FieldLines, ResponseHead, Role, State};
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

/// `headers`: names lowercased; `fields`: names as received. Both in
/// received order, values as the head reads them (trimmed).
fn fields_json(fields: &FieldLines) -> (Value, Value) {
    let headers = fields
        .iter()
        .map(|f| json!([latin1(&f.name().to_ascii_lowercase()), latin1(f.value())]))
        .collect();
    let lines = fields
        .iter()
        .map(|f| json!([latin1(f.name()), latin1(f.value())]))
        .collect();
    (Value::Array(headers), Value::Array(lines))
}

fn version(v: Version) -> &'static str {
    if v == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    }
}

/// What the server role answers a complete request with.
fn answer(
    conn: &mut Connection,
    connect: bool,
    upgrade: Option<Vec<u8>>,
) -> Result<(), Box<dyn std::error::Error>> {
    if connect {
        conn.send_response(ResponseHead::new(StatusCode::OK))?;
    } else if let Some(token) = upgrade {
        let mut res = ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS);
        res.fields_mut().append("upgrade", token)?;
        res.fields_mut().append("connection", "upgrade")?;
        conn.send_response(res)?;
    } else {
        let mut res = ResponseHead::new(StatusCode::OK);
        res.fields_mut().append("content-length", "0")?;
        conn.send_response(res)?;
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
            // CONNECT names its authority, which Host repeats (RFC 9112 3.2).
            let (uri, host) = if method == Method::CONNECT {
                ("example.com:443", "example.com:443")
            } else {
                ("/", "example.com")
            };
            let mut req = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::HOST, host);
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
    let mut current: Option<(bool, Option<Vec<u8>>)> = None;
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
                Event::Request(head) => {
                    current = Some((
                        head.is_method(&Method::CONNECT),
                        head.requested_upgrade().map(<[u8]>::to_vec),
                    ));
                    let (headers, fields) = fields_json(head.fields());
                    emit(
                        &mut out,
                        json!({
                            "event": "request",
                            "method": latin1(head.method()),
                            "target": latin1(head.target()),
                            "version": version(head.version()),
                            "headers": headers,
                            "fields": fields,
                        }),
                    );
                }
                Event::Informational(head) | Event::Response(head) => {
                    let (headers, fields) = fields_json(head.fields());
                    emit(
                        &mut out,
                        json!({
                            "event": "response",
                            "status": head.status().as_u16(),
                            "reason": latin1(head.reason()),
                            "version": version(head.version()),
                            "headers": headers,
                            "fields": fields,
                        }),
                    );
                }
                Event::Data(d) => emit(&mut out, json!({"event": "data", "data": latin1(&d)})),
                Event::Trailers(t) => {
                    let (headers, fields) = fields_json(&t);
                    emit(
                        &mut out,
                        json!({"event": "trailers", "headers": headers, "fields": fields}),
                    );
                }
                Event::End => {
                    emit(&mut out, json!({"event": "end"}));
                    if let (Role::Server, Some((connect, upgrade))) = (args.role, current.take()) {
                        if let Err(e) = answer(&mut conn, connect, upgrade) {
                            eprintln!("probe: answering: {e}");
                            return ExitCode::from(1);
                        }
                        while conn.poll_output().is_some() {}
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
                Event::Finished => break true,
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
