//! Turns the saved criterion baselines (one per round) and the e2e JSON
//! lines into the Markdown tables of BENCHMARKS.md.
//!
//! ```text
//! bench-report --criterion DIR --rounds r1,r2,r3 [--e2e results.jsonl] [--all]
//! ```
//!
//! Every ratio is computed within one round (same run, adjacent in time)
//! and the median over rounds is shown. "×" > 1 means rfc6455 is better:
//! for throughput it is ours ÷ peer, for CPU time or memory peer ÷ ours.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rfc6455_benches::frames::{Kind, SIZES};

const PEERS: [&str; 5] = [
    "tokio-tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "sockudo-ws",
    "yawc",
];
const SHORT: [&str; 5] = ["tungstenite", "fastws", "tokio-ws", "sockudo", "yawc"];

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// ns per iteration and messages per iteration, per (group, function, round).
struct Codec {
    time: HashMap<(String, String, String), f64>,
    elements: HashMap<String, f64>,
    rounds: Vec<String>,
}

impl Codec {
    fn load(dir: &Path, rounds: &[String]) -> Codec {
        let mut time = HashMap::new();
        let mut elements = HashMap::new();
        let Ok(groups) = std::fs::read_dir(dir) else {
            return Codec {
                time,
                elements,
                rounds: rounds.to_vec(),
            };
        };
        for group in groups.flatten() {
            let gname = group.file_name().to_string_lossy().into_owned();
            let Ok(funcs) = std::fs::read_dir(group.path()) else {
                continue;
            };
            for func in funcs.flatten() {
                let fname = func.file_name().to_string_lossy().into_owned();
                for round in rounds {
                    let base = func.path().join(round);
                    let Ok(est) = std::fs::read_to_string(base.join("estimates.json")) else {
                        continue;
                    };
                    let est: serde_json::Value = serde_json::from_str(&est).expect("estimates");
                    let ns = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                    time.insert((gname.clone(), fname.clone(), round.clone()), ns);
                    if let Ok(b) = std::fs::read_to_string(base.join("benchmark.json")) {
                        let b: serde_json::Value = serde_json::from_str(&b).expect("benchmark");
                        if let Some(e) = b["throughput"]["ElementsAndBytes"]["elements"].as_f64() {
                            elements.insert(gname.clone(), e);
                        }
                    }
                }
            }
        }
        Codec {
            time,
            elements,
            rounds: rounds.to_vec(),
        }
    }

    /// Median over rounds of time(b) / time(a): how many times faster `a` is.
    fn speedup(&self, group: &str, a: &str, b: &str) -> f64 {
        median(
            self.rounds
                .iter()
                .filter_map(|r| {
                    let ta = self.time.get(&(group.into(), a.into(), r.clone()))?;
                    let tb = self.time.get(&(group.into(), b.into(), r.clone()))?;
                    Some(tb / ta)
                })
                .collect(),
        )
    }

    /// Median over rounds of messages/s.
    fn rate(&self, group: &str, f: &str) -> f64 {
        let n = self.elements.get(group).copied().unwrap_or(f64::NAN);
        median(
            self.rounds
                .iter()
                .filter_map(|r| self.time.get(&(group.into(), f.into(), r.clone())))
                .map(|ns| n / ns * 1e9)
                .collect(),
        )
    }

    fn has(&self, group: &str, f: &str) -> bool {
        self.rounds
            .iter()
            .any(|r| self.time.contains_key(&(group.into(), f.into(), r.clone())))
    }
}

fn fmt_ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}×")
    } else {
        "–".into()
    }
}

fn fmt_rate(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn fmt_bytes_rate(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= (1u64 << 30) as f64 {
        format!("{:.2} GiB/s", x / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB/s", x / (1u64 << 20) as f64)
    }
}

fn codec_tables(c: &Codec, all: bool) {
    for (op, title) in [
        (
            "decode",
            "Decode (server role: masked client frames → messages)",
        ),
        ("encode_server", "Encode, server → client (unmasked)"),
        ("encode_client", "Encode, client → server (masked)"),
    ] {
        for kind in Kind::ALL {
            println!("\n#### {title}, {}\n", kind.name());
            let base = match (op, kind) {
                ("decode", Kind::Binary) => "base-copy-unmask",
                ("decode", Kind::Text) => "base-copy-unmask-utf8",
                ("encode_client", _) => "base-copy-unmask",
                _ => "base-memcpy",
            };
            println!(
                "| size | rfc6455 msg/s | rfc6455 bytes/s | × ours-tokio | {} | best peer | × best | % of `{base}` | target |",
                SHORT
                    .iter()
                    .map(|s| format!("× {s}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            println!(
                "|---|---:|---:|---:|{}---|---:|---:|---|",
                "---:|".repeat(PEERS.len())
            );
            for (size, label) in SIZES {
                let g = format!("{op}-{}-{label}", kind.name());
                if !c.has(&g, "rfc6455") {
                    continue;
                }
                let rate = c.rate(&g, "rfc6455");
                let mut cells = Vec::new();
                let mut best: Option<(&str, f64)> = None;
                for peer in PEERS {
                    if !c.has(&g, peer) {
                        cells.push("–".to_string());
                        continue;
                    }
                    let r = c.speedup(&g, "rfc6455", peer);
                    cells.push(fmt_ratio(r));
                    // The best peer is the one we beat by the least.
                    if best.is_none_or(|(_, b)| r < b) {
                        best = Some((peer, r));
                    }
                }
                let vs_base = 100.0 * c.speedup(&g, "rfc6455", base);
                let best_ratio = best.map_or(f64::NAN, |b| b.1);
                let target = match (op, kind, size) {
                    (_, _, s) if s <= 125 => verdict(best_ratio >= 1.5, "≥1.5× best"),
                    (_, Kind::Binary, _) => {
                        let base_ok = op != "decode" || vs_base >= 95.0;
                        verdict(
                            best_ratio >= 1.0 && base_ok,
                            if op == "decode" {
                                "≥1.0× best, ≥95% base"
                            } else {
                                "≥1.0× best"
                            },
                        )
                    }
                    (_, Kind::Text, _) => verdict(best_ratio >= 1.2, "≥1.2× best"),
                };
                println!(
                    "| {label} | {} | {} | {} | {} | {} | {} | {:.0}% | {target} |",
                    fmt_rate(rate),
                    fmt_bytes_rate(rate * size as f64),
                    fmt_ratio(c.speedup(&g, "rfc6455", "rfc6455-tokio")),
                    cells.join(" | "),
                    best.map_or("–", |b| b.0),
                    fmt_ratio(best_ratio),
                    vs_base,
                );
            }
        }
    }
    if c.has("broadcast-text-125B", "rfc6455-send") {
        println!("\n#### Broadcast: one text message to 1,000 server connections\n");
        println!(
            "Deliveries/s (one delivery = one connection's frame written out). × = prepared ÷ per-connection send, same round.\n"
        );
        println!("| size | send | prepared | × | deflate send | deflate prepared | × |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for label in ["125B", "16KiB"] {
            let g = format!("broadcast-text-{label}");
            println!(
                "| {label} | {} | {} | {} | {} | {} | {} |",
                fmt_rate(c.rate(&g, "rfc6455-send")),
                fmt_rate(c.rate(&g, "rfc6455-prepared")),
                fmt_ratio(c.speedup(&g, "rfc6455-prepared", "rfc6455-send")),
                fmt_rate(c.rate(&g, "rfc6455-deflate-send")),
                fmt_rate(c.rate(&g, "rfc6455-deflate-prepared")),
                fmt_ratio(c.speedup(&g, "rfc6455-deflate-prepared", "rfc6455-deflate-send")),
            );
        }
    }
    if all {
        println!("\n#### All codec results (messages/s, median over rounds)\n");
        let mut funcs: Vec<&str> = vec!["rfc6455", "rfc6455-tokio"];
        funcs.extend(PEERS);
        funcs.extend([
            "base-memcpy",
            "base-copy-unmask",
            "base-utf8",
            "base-copy-unmask-utf8",
        ]);
        println!("| group | {} |", funcs.join(" | "));
        println!("|---|{}", "---:|".repeat(funcs.len()));
        let mut groups: Vec<&String> = c
            .elements
            .keys()
            .filter(|g| !g.starts_with("broadcast"))
            .collect();
        groups.sort_by_key(|g| {
            let size = SIZES
                .iter()
                .position(|(_, l)| g.ends_with(&format!("-{l}")))
                .unwrap_or(9);
            ((*g).replace(SIZES[size.min(4)].1, ""), size)
        });
        for g in groups {
            let cells: Vec<String> = funcs
                .iter()
                .map(|f| {
                    if c.has(g, f) {
                        fmt_rate(c.rate(g, f))
                    } else {
                        "–".into()
                    }
                })
                .collect();
            println!("| {g} | {} |", cells.join(" | "));
        }
    }
}

fn verdict(ok: bool, what: &str) -> String {
    format!("{} {what}", if ok { "met" } else { "**missed**" })
}

fn e2e_tables(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    // (workload, lib, round) -> record
    let mut runs: BTreeMap<(String, String, u64), serde_json::Value> = BTreeMap::new();
    let mut idle: BTreeMap<(String, u64), serde_json::Value> = BTreeMap::new();
    let mut workloads: Vec<String> = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let lib = v["lib"].as_str().unwrap_or("").to_owned();
        let round = v["round"].as_u64().unwrap_or(0);
        match v["type"].as_str() {
            Some("e2e") => {
                let w = v["workload"].as_str().unwrap_or("").to_owned();
                if !workloads.contains(&w) {
                    workloads.push(w.clone());
                }
                runs.insert((w, lib, round), v);
            }
            Some("idle") => {
                idle.insert((lib, round), v);
            }
            _ => {}
        }
    }
    let field = |w: &str, lib: &str, f: &str| -> Vec<(u64, f64)> {
        runs.range((w.to_owned(), lib.to_owned(), 0)..=(w.to_owned(), lib.to_owned(), u64::MAX))
            .filter_map(|((_, _, r), v)| Some((*r, v[f].as_f64()?)))
            .collect()
    };
    // Median over rounds of a per-round ratio.
    let ratio = |w: &str, f: &str, ours_over_peer: bool, peer: &str| -> f64 {
        let ours: HashMap<u64, f64> = field(w, "rfc6455", f).into_iter().collect();
        median(
            field(w, peer, f)
                .into_iter()
                .filter_map(|(r, p)| {
                    let o = ours.get(&r)?;
                    Some(if ours_over_peer { o / p } else { p / o })
                })
                .collect(),
        )
    };
    if !workloads.is_empty() {
        println!("\n#### End to end, loopback, echo servers on one worker thread\n");
        println!(
            "msg/s: round trips per second (× = ours ÷ peer). CPU: server CPU time per message \
             (× = peer ÷ ours, so > 1 means rfc6455 uses less). Medians over rounds.\n"
        );
        println!(
            "| workload | rfc6455 msg/s | p99 | CPU/msg | server CPU | {} | {} | target |",
            SHORT
                .iter()
                .map(|s| format!("× msg/s {s}"))
                .collect::<Vec<_>>()
                .join(" | "),
            SHORT
                .iter()
                .map(|s| format!("× CPU {s}"))
                .collect::<Vec<_>>()
                .join(" | "),
        );
        println!(
            "|---|---:|---:|---:|---:|{}---|",
            "---:|".repeat(2 * PEERS.len())
        );
        for w in &workloads {
            let m = |f: &str| median(field(w, "rfc6455", f).into_iter().map(|x| x.1).collect());
            let rate_r: Vec<f64> = PEERS
                .iter()
                .map(|p| ratio(w, "msgs_per_sec", true, p))
                .collect();
            let cpu_r: Vec<f64> = PEERS
                .iter()
                .map(|p| ratio(w, "cpu_ns_per_msg", false, p))
                .collect();
            let min = |v: &[f64]| {
                v.iter()
                    .copied()
                    .filter(|x| x.is_finite())
                    .fold(f64::INFINITY, f64::min)
            };
            let ok = min(&rate_r) >= 1.1 && min(&cpu_r) >= 1.1;
            println!(
                "| {w} | {} | {:.0} µs | {:.0} ns | {:.0}% | {} | {} | {} |",
                fmt_rate(m("msgs_per_sec")),
                m("p99_us"),
                m("cpu_ns_per_msg"),
                100.0 * m("server_cpu_util"),
                rate_r
                    .iter()
                    .map(|&x| fmt_ratio(x))
                    .collect::<Vec<_>>()
                    .join(" | "),
                cpu_r
                    .iter()
                    .map(|&x| fmt_ratio(x))
                    .collect::<Vec<_>>()
                    .join(" | "),
                verdict(ok, "≥1.1× best"),
            );
        }
        println!("\nAbsolute numbers (medians over rounds):\n");
        println!("| workload | library | msg/s | p50 | p99 | CPU/msg | server CPU |");
        println!("|---|---|---:|---:|---:|---:|---:|");
        for w in &workloads {
            for lib in std::iter::once("rfc6455").chain(PEERS) {
                let m = |f: &str| median(field(w, lib, f).into_iter().map(|x| x.1).collect());
                if !m("msgs_per_sec").is_finite() {
                    continue;
                }
                println!(
                    "| {w} | {lib} | {} | {:.0} µs | {:.0} µs | {:.0} ns | {:.0}% |",
                    fmt_rate(m("msgs_per_sec")),
                    m("p50_us"),
                    m("p99_us"),
                    m("cpu_ns_per_msg"),
                    100.0 * m("server_cpu_util"),
                );
            }
        }
    }
    if !idle.is_empty() {
        println!("\n#### Idle memory: server RSS growth per open, idle connection\n");
        println!("| library | connections | bytes / connection | × (peer ÷ ours) | target |");
        println!("|---|---:|---:|---:|---|");
        let per = |lib: &str| {
            median(
                idle.range((lib.to_owned(), 0)..=(lib.to_owned(), u64::MAX))
                    .filter_map(|(_, v)| v["bytes_per_conn"].as_f64())
                    .collect(),
            )
        };
        let conns = |lib: &str| {
            idle.range((lib.to_owned(), 0)..=(lib.to_owned(), u64::MAX))
                .filter_map(|(_, v)| v["conns"].as_u64())
                .max()
                .unwrap_or(0)
        };
        let ours = per("rfc6455");
        for lib in std::iter::once("rfc6455").chain(PEERS) {
            let p = per(lib);
            if !p.is_finite() {
                continue;
            }
            let target = if lib == "rfc6455" {
                verdict(p <= 1024.0, "≤ 1 KiB")
            } else {
                String::new()
            };
            let ratio = if lib == "rfc6455" {
                "".into()
            } else {
                fmt_ratio(p / ours)
            };
            println!("| {lib} | {} | {:.0} | {ratio} | {target} |", conns(lib), p);
        }
    }
}

fn main() {
    let mut criterion = None;
    let mut rounds = vec!["new".to_string()];
    let mut e2e = None;
    let mut all = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--criterion" => criterion = args.next(),
            "--rounds" => {
                rounds = args
                    .next()
                    .expect("--rounds")
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            "--e2e" => e2e = args.next(),
            "--all" => all = true,
            other => panic!("unknown argument {other:?}"),
        }
    }
    if let Some(dir) = criterion {
        let c = Codec::load(Path::new(&dir), &rounds);
        if !c.time.is_empty() {
            println!(
                "\n### Codec, in memory, one thread ({} round(s))\n\n\
                 × = rfc6455 (sans-IO core) messages/s ÷ the peer's, same round; > 1 means ours is faster. \
                 \"best peer\" is the fastest peer; \"% of base\" compares ours with the physical limit on the same bytes.",
                rounds.len()
            );
            codec_tables(&c, all);
        }
    }
    if let Some(path) = e2e {
        e2e_tables(Path::new(&path));
    }
}
