//! Running firmware under QEMU from host tests: building a board crate,
//! starting `qemu-system-arm` with semihosting on stdio and a QMP socket,
//! waiting for lines, taking screendumps, and always killing the QEMU
//! process it started (and only that one).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Whether an outside tool is on PATH. When it is missing this says so
/// loudly and returns false, except under `CI=true`, where a missing tool
/// fails the test: CI must always run it.
pub fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`{tool}` is required under CI=true ({why}); scripts/test.sh installs it");
        }
        eprintln!("\n*** SKIPPED: `{tool}` not found, so {why} did not run. Install it (scripts/test.sh does) ***\n");
    }
    found
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Builds a board crate (`firmware/boards/<board>`) in release mode and
/// returns the ELF path. `model` overrides the embedded model file;
/// `target_dir` keeps differently configured builds apart.
pub fn build_board(
    board: &str,
    bin: &str,
    target: &str,
    model: Option<&Path>,
    target_dir: &str,
) -> PathBuf {
    cargo_build(board, bin, target, model, target_dir, &[])
}

/// Builds the benchmark firmware (`firmware/boards/bench`) with `features`
/// (the board, and `size-probe` for the minimal program) for `target`;
/// returns the ELF path.
pub fn build_bench(features: &str, target: &str, target_dir: &str) -> PathBuf {
    let args = ["--features", features, "--target", target];
    cargo_build("bench", "bench", target, None, target_dir, &args)
}

/// `cargo build --release` in a board's folder, its ELF path.
fn cargo_build(
    board: &str,
    bin: &str,
    target: &str,
    model: Option<&Path>,
    target_dir: &str,
    extra: &[&str],
) -> PathBuf {
    let dir = workspace().join("firmware/boards").join(board);
    let target_dir = dir.join(target_dir);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&dir)
        .args(["build", "--release", "--quiet"])
        .args(extra)
        .arg("--target-dir")
        .arg(&target_dir);
    match model {
        Some(m) => cmd.env("FIRMWARE_MODEL", m),
        None => cmd.env_remove("FIRMWARE_MODEL"),
    };
    let status = cmd.status().expect("cargo runs");
    assert!(
        status.success(),
        "building firmware/boards/{board} {extra:?} failed"
    );
    target_dir.join(target).join("release").join(bin)
}

/// A QEMU process with its console lines and QMP socket.
pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every console line received so far.
    pub transcript: Vec<String>,
    qmp: Option<BufReader<UnixStream>>,
    _dir: tempfile::TempDir,
    /// Scratch folder for screendumps.
    pub scratch: PathBuf,
}

impl Qemu {
    /// Starts `qemu-system-arm -machine <machine>` on `elf` with semihosting
    /// on stdio, the given semihosting arguments, extra QEMU flags, and (if
    /// `qmp`) a QMP socket.
    pub fn start(machine: &str, elf: &Path, args: &[&str], extra: &[&str], qmp: bool) -> Qemu {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("qmp.sock");
        let mut semi = String::from("enable=on,target=native,chardev=semi,arg=firmware");
        for a in args {
            semi.push_str(",arg=");
            semi.push_str(a);
        }
        let mut cmd = Command::new("qemu-system-arm");
        cmd.args([
            "-machine",
            machine,
            "-display",
            "none",
            "-chardev",
            "stdio,id=semi,signal=off",
        ])
        .args(["-semihosting-config", &semi])
        .args(extra)
        .arg("-kernel")
        .arg(elf);
        if qmp {
            cmd.arg("-qmp")
                .arg(format!("unix:{},server=on,wait=off", socket.display()));
        }
        Self::spawn(cmd, dir, qmp.then_some(socket.as_path()))
    }

    /// Starts QEMU's riscv32 `virt` machine (an RV32IMC core, no firmware:
    /// `-bios none`) on `elf`, its UART on stdio, with extra QEMU flags.
    pub fn start_riscv_virt(elf: &Path, extra: &[&str]) -> Qemu {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new("qemu-system-riscv32");
        cmd.args(["-machine", "virt", "-cpu", "rv32", "-bios", "none"])
            .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
            .args(extra)
            .arg("-kernel")
            .arg(elf);
        Self::spawn(cmd, dir, None)
    }

    /// Runs `cmd` (a QEMU command line) with stdin and stdout piped, stderr
    /// to a file in `dir`, and connects to its QMP socket if given.
    fn spawn(mut cmd: Command, dir: tempfile::TempDir, qmp: Option<&Path>) -> Qemu {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr file"));
        let mut child = cmd.spawn().expect("QEMU starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut q = Qemu {
            child,
            stdin,
            lines: rx,
            transcript: Vec::new(),
            qmp: None,
            scratch: dir.path().to_owned(),
            _dir: dir,
        };
        if let Some(socket) = qmp {
            q.connect_qmp(socket);
        }
        q
    }

    fn connect_qmp(&mut self, socket: &Path) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("QMP socket: {e}; QEMU stderr: {}", self.stderr()),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut reader = BufReader::new(stream);
        let mut greeting = String::new();
        reader.read_line(&mut greeting).expect("QMP greeting");
        assert!(
            greeting.contains("QMP"),
            "unexpected QMP greeting {greeting}"
        );
        self.qmp = Some(reader);
        self.qmp_command(r#"{"execute":"qmp_capabilities"}"#);
    }

    /// What QEMU wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.scratch.join("stderr.txt")).unwrap_or_default()
    }

    /// Sends a QMP command and returns its `return` line (events are skipped).
    pub fn qmp_command(&mut self, json: &str) -> String {
        let reader = self.qmp.as_mut().expect("started with QMP");
        reader
            .get_mut()
            .write_all(json.as_bytes())
            .expect("QMP write");
        reader.get_mut().write_all(b"\n").expect("QMP write");
        loop {
            let mut line = String::new();
            if let Err(e) = reader.read_line(&mut line) {
                let _ = e;
                let err =
                    std::fs::read_to_string(self.scratch.join("stderr.txt")).unwrap_or_default();
                panic!(
                    "QMP reply to {json}: {e}; QEMU stderr: {err}; console: {:#?}",
                    self.transcript
                );
            }
            assert!(!line.is_empty(), "QMP closed");
            if line.contains("\"return\"") {
                return line;
            }
            assert!(!line.contains("\"error\""), "QMP error for {json}: {line}");
        }
    }

    /// Waits for a console line starting with `prefix`; panics with the
    /// transcript on timeout or if the firmware reports a fault.
    pub fn wait_for(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.transcript.push(line.clone());
                    assert!(
                        !line.starts_with("HARDFAULT") && !line.starts_with("PANIC"),
                        "firmware fault: {line}\n{:#?}",
                        self.transcript
                    );
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no `{prefix}` line within {timeout:?}; console so far: {:#?}",
                        self.transcript
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "QEMU ended before `{prefix}`; console: {:#?}",
                        self.transcript
                    )
                }
            }
        }
    }

    /// Sends one byte to the firmware's semihosting console.
    pub fn send_byte(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin.write_all(b"\n").expect("write to QEMU");
        stdin.flush().expect("flush");
    }

    /// Writes the emulated display to a PPM and returns `(width, height, rgb)`.
    pub fn screendump(&mut self, name: &str) -> (usize, usize, Vec<u8>) {
        let path = self.scratch.join(name);
        self.qmp_command(&format!(
            r#"{{"execute":"screendump","arguments":{{"filename":"{}"}}}}"#,
            path.display()
        ));
        read_ppm(&path)
    }

    /// Waits for QEMU to exit by itself; kills it after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.transcript.push(line);
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "QEMU did not exit within {timeout:?}; console: {:#?}",
                    self.transcript
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        // Only the process this harness started.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a binary PPM (P6, maxval 255).
pub fn read_ppm(path: &Path) -> (usize, usize, Vec<u8>) {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .expect("screendump file");
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P6", "not a binary PPM");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], "255");
    let data = bytes[i + 1..].to_vec();
    assert_eq!(data.len(), w * h * 3, "PPM size");
    (w, h, data)
}

/// Saves an RGB screendump as a PNG (for people to look at).
pub fn save_png(path: &Path, w: usize, h: usize, rgb: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("output folder");
    }
    let file = std::fs::File::create(path).expect("png file");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .and_then(|mut wr| wr.write_image_data(rgb))
        .expect("png data");
}
