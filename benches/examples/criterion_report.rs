//! Turns criterion's results into markdown: every bench's median time and
//! throughput, then the ratios the targets are stated in, measured side by
//! side in the same run.
//!
//! ```sh
//! cargo run --release -p h1-benches --example criterion_report -- target/criterion
//! ```
//!
//! The argument is criterion's output directory (`$CRITERION_HOME`, by
//! default `target/criterion`); `benches/run.sh` points it at a fresh one.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// One bench: median time per iteration (ns) and bytes per iteration.
struct Measured {
    median_ns: f64,
    bytes: Option<f64>,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn load(dir: &Path) -> BTreeMap<(String, String), Measured> {
    let mut out = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(dir) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let (Some(meta), Some(est)) = (
                read_json(&new.join("benchmark.json")),
                read_json(&new.join("estimates.json")),
            ) else {
                continue;
            };
            let (Some(group_id), Some(function_id), Some(median_ns)) = (
                meta["group_id"].as_str(),
                meta["function_id"].as_str(),
                est["median"]["point_estimate"].as_f64(),
            ) else {
                continue;
            };
            let bytes = meta["throughput"]["Bytes"].as_f64();
            out.insert(
                (group_id.to_string(), function_id.to_string()),
                Measured { median_ns, bytes },
            );
        }
    }
    out
}

fn time(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

fn rate(bytes: f64, ns: f64) -> String {
    let per_sec = bytes / ns * 1e9;
    if per_sec >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB/s", per_sec / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.1} MiB/s", per_sec / (1024.0 * 1024.0))
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/criterion".into());
    let results = load(Path::new(&dir));
    if results.is_empty() {
        println!("No criterion results under {dir}.");
        return;
    }

    println!("### Criterion: median time per iteration\n");
    println!("| group | bench | time | throughput |");
    println!("| --- | --- | ---: | ---: |");
    for ((group, bench), r) in &results {
        let thrpt = r.bytes.map_or_else(|| "-".into(), |b| rate(b, r.median_ns));
        println!("| {group} | {bench} | {} | {thrpt} |", time(r.median_ns));
    }

    // A ratio of median times, or of throughputs (`inverse`) where the
    // target is stated in throughput.
    let get = |group: &str, bench: &str| results.get(&(group.to_string(), bench.to_string()));
    let mut rows: Vec<(String, Option<f64>, &str)> = Vec::new();
    let mut ratio = |what: String, group: &str, num: &str, den: &str, inverse: bool, target: &'static str| {
        let value = match (get(group, num), get(group, den)) {
            (Some(n), Some(d)) if inverse => Some(d.median_ns / n.median_ns),
            (Some(n), Some(d)) => Some(n.median_ns / d.median_ns),
            _ => None,
        };
        rows.push((what, value, target));
    };
    for case in ["small_get", "browser_get", "response_10", "pipelined_100"] {
        let group = format!("head/{case}");
        let target = if case == "browser_get" { "≤ 2.0" } else { "-" };
        ratio(
            format!("{group}: h1_head_event / httparse (time)"),
            &group,
            "h1_head_event",
            "httparse",
            false,
            target,
        );
    }
    for case in ["small_get", "browser_get", "response_10", "pipelined_100"] {
        let group = format!("head/{case}");
        ratio(
            format!("{group}: h1_request / hyper_way (time)"),
            &group,
            "h1_request",
            "hyper_way",
            false,
            "≤ 1.0",
        );
    }
    for case in ["small_get", "browser_get", "response_10"] {
        let group = format!("head/{case}");
        ratio(
            format!("{group}: h1_request_cold / hyper_way (time)"),
            &group,
            "h1_request_cold",
            "hyper_way",
            false,
            "-",
        );
    }
    ratio(
        "head_feed/16k: bytewise / whole (time)".into(),
        "head_feed/16k",
        "bytewise",
        "whole",
        false,
        "≤ 3",
    );
    for case in ["chunked_16k", "chunked_1k", "content_length"] {
        let group = format!("body/{case}");
        let target = if case.starts_with("chunked") {
            "≥ 0.8"
        } else {
            "-"
        };
        for bench in ["h1", "h1_16k_reads"] {
            ratio(
                format!("{group}: {bench} / copy (throughput)"),
                &group,
                bench,
                "copy",
                true,
                target,
            );
        }
    }
    for case in ["small_get", "browser_get"] {
        let group = format!("e2e/{case}");
        ratio(
            format!("{group}: h1_tokio / hyper (time per request)"),
            &group,
            "h1_tokio",
            "hyper",
            false,
            "≤ 0.8",
        );
        ratio(
            format!("{group}: h1_tokio_http / hyper (time per request)"),
            &group,
            "h1_tokio_http",
            "hyper",
            false,
            "≤ 1.0",
        );
    }

    println!("\n### Criterion: ratios for the targets (same run)\n");
    println!("| measure | ratio | target |");
    println!("| --- | ---: | --- |");
    for (what, value, target) in rows {
        let value = value.map_or_else(|| "not run".into(), |v| format!("{v:.2}"));
        println!("| {what} | {value} | {target} |");
    }
}
