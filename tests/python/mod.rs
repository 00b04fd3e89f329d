//! Python's `websockets` package as a test peer, shared by the interop
//! tests (tests/interop_python.rs, tests/tls.rs): a virtual environment
//! with the pinned release, set up once under `$CARGO_TARGET_TMPDIR`, and
//! `tests/interop/ws_peer.py` run as a child process.
//!
//! Setup: the first test creates a virtual environment with the machine's
//! `python3 -m venv` (or, when `venv` is unavailable, `pip install
//! --target`), installs `websockets` from PyPI, and reuses it on later
//! runs. `RFC6455_PYTHON` names another interpreter. Without Python 3 (or
//! without network access on the first run), every test that needs it
//! fails, saying why: none passes without running.
//!
//! Every wait is bounded; every child process is killed by its handle when
//! the test ends, and a Python server also exits when its stdin closes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The `websockets` release the tests run against.
pub const WEBSOCKETS_VERSION: &str = "17.4";
const PEER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/ws_peer.py");
/// Any single wait: a message, an event from the Python side, a close.
pub const LIMIT: Duration = Duration::from_secs(60);
/// Creating the virtual environment and installing websockets.
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// A Python interpreter that can `import websockets`.
#[derive(Debug)]
pub struct Python {
    exe: PathBuf,
    /// Set when websockets was installed with `pip install --target`.
    pythonpath: Option<PathBuf>,
}

impl Python {
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command.env_remove("PYTHONHOME");
        match &self.pythonpath {
            Some(path) => command.env("PYTHONPATH", path),
            None => command.env_remove("PYTHONPATH"),
        };
        command
    }

    /// Does this interpreter import the pinned websockets?
    fn works(&self) -> bool {
        let check = format!(
            "import sys, websockets; sys.exit(websockets.__version__ != {WEBSOCKETS_VERSION:?})"
        );
        matches!(
            run_bounded(self.command().args(["-c", &check]), LIMIT),
            Ok(out) if out.status.success()
        )
    }
}

/// The interpreter, set up once per test process. A failure is reported by
/// every test that needs it.
pub fn python() -> &'static Python {
    static PYTHON: OnceLock<Result<Python, String>> = OnceLock::new();
    match PYTHON.get_or_init(setup_python) {
        Ok(python) => python,
        Err(e) => panic!(
            "\n\nThe Python interop tests could not set up Python's `websockets` \
             {WEBSOCKETS_VERSION}:\n{e}\n\nThey need Python 3.10 or later as `python3` (or \
             RFC6455_PYTHON), with `venv` (Debian: apt-get install python3-venv) or pip, \
             and access to PyPI the first time.\n"
        ),
    }
}

fn setup_python() -> Result<Python, String> {
    let system = std::env::var_os("RFC6455_PYTHON").unwrap_or_else(|| "python3".into());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("python-websockets-{WEBSOCKETS_VERSION}"));
    let cached = |dir: &Path| {
        [
            Python {
                exe: dir.join("venv/bin/python"),
                pythonpath: None,
            },
            Python {
                exe: PathBuf::from(&system),
                pythonpath: Some(dir.join("site")),
            },
        ]
        .into_iter()
        .find(|python| python.exe.exists() && python.works())
    };
    if dir.exists()
        && let Some(python) = cached(&dir)
    {
        return Ok(python);
    }

    // Build in a directory of our own, then move it into place, so that a
    // concurrent or interrupted setup never leaves a half-made cache.
    let version = run_bounded(Command::new(&system).arg("--version"), LIMIT)
        .map_err(|e| format!("cannot run {system:?}: {e} (is Python 3 installed and on PATH?)"))?;
    if !version.status.success() {
        return Err(format!(
            "{system:?} --version failed: {}",
            describe(&version)
        ));
    }
    let work = dir.with_file_name(format!(
        "python-websockets-{WEBSOCKETS_VERSION}.tmp-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let requirement = format!("websockets=={WEBSOCKETS_VERSION}");
    let pip_args = [
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
    ];

    let mut failures = Vec::new();
    let venv = run_bounded(
        Command::new(&system)
            .args(["-m", "venv"])
            .arg(work.join("venv")),
        INSTALL_LIMIT,
    );
    let installed = match venv {
        Ok(out) if out.status.success() => {
            let python = Python {
                exe: work.join("venv/bin/python"),
                pythonpath: None,
            };
            run_bounded(
                python.command().args(pip_args).arg(&requirement),
                INSTALL_LIMIT,
            )
        }
        other => {
            failures.push(format!("python3 -m venv: {}", outcome(&other)));
            run_bounded(
                Command::new(&system)
                    .args(pip_args)
                    .arg("--target")
                    .arg(work.join("site"))
                    .arg(&requirement),
                INSTALL_LIMIT,
            )
        }
    };
    if !matches!(&installed, Ok(out) if out.status.success()) {
        failures.push(format!(
            "pip install {requirement}: {}",
            outcome(&installed)
        ));
        let _ = std::fs::remove_dir_all(&work);
        return Err(failures.join("\n"));
    }

    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::rename(&work, &dir) {
        let _ = std::fs::remove_dir_all(&work);
        // Another process may have just put its own in place.
        return cached(&dir).ok_or(format!("moving {} into place: {e}", work.display()));
    }
    cached(&dir).ok_or_else(|| {
        format!(
            "websockets {WEBSOCKETS_VERSION} installed in {} does not import",
            dir.display()
        )
    })
}

/// Runs a command to completion within `limit`, killing it if it runs over.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Result<Output, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = collect(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = collect(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {limit:?}"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn outcome(result: &Result<Output, String>) -> String {
    match result {
        Ok(out) => describe(out),
        Err(e) => e.clone(),
    }
}

// ---------------------------------------------------------------------------
// The Python peer process.

/// `ws_peer.py`, killed and reaped when dropped.
pub struct Peer {
    child: Child,
    /// Held open: a Python server exits when it closes.
    _stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    pub fn spawn(args: &[&str]) -> Peer {
        let mut child = python()
            .command()
            .arg(PEER_SCRIPT)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting ws_peer.py {args:?}: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        Peer {
            _stdin: child.stdin.take(),
            child,
            lines,
            stderr,
        }
    }

    /// The next event line, which must be `event`; returns the rest of it.
    pub fn expect(&self, event: &str) -> String {
        let line = match self.lines.recv_timeout(LIMIT) {
            Ok(line) => line,
            Err(e) => panic!(
                "no {event:?} line from ws_peer.py ({e}){}",
                self.stderr_text()
            ),
        };
        match line.split_once(' ') {
            Some((name, rest)) if name == event => rest.to_owned(),
            _ => panic!(
                "expected {event:?} from ws_peer.py, got {line:?}{}",
                self.stderr_text()
            ),
        }
    }

    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ws_peer.py still running after {LIMIT:?}{}",
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_text(&self) -> String {
        thread::sleep(Duration::from_millis(200)); // let a traceback arrive
        let text = self.stderr.lock().unwrap();
        if text.is_empty() {
            String::new()
        } else {
            format!("\nws_peer.py stderr:\n{text}")
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
