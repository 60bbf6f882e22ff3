//! Process figures read by the sampler (never on a request): resident memory and CPU time
//! from `/proc/self`, open file descriptors, and free space where the data lives. On a
//! system without `/proc` the figures are simply absent.

use std::{path::Path, time::Instant};

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct SystemFigures {
    pub rss_mb: Option<f64>,
    /// CPU used by this process since the previous reading, in % of one core.
    pub cpu_percent: Option<f64>,
    pub disk_free_mb: Option<f64>,
    pub disk_total_mb: Option<f64>,
    pub open_files: Option<u64>,
    pub threads: Option<u64>,
}

/// Keeps the previous CPU reading, to turn CPU time into a percentage.
pub struct CpuMeter {
    last: Option<(Instant, u64)>,
    ticks_per_sec: u64,
}

impl Default for CpuMeter {
    fn default() -> Self {
        CpuMeter {
            last: None,
            ticks_per_sec: rustix::param::clock_ticks_per_second().max(1),
        }
    }
}

impl CpuMeter {
    fn percent(&mut self, ticks: u64) -> Option<f64> {
        let now = Instant::now();
        let out = self.last.and_then(|(at, before)| {
            let wall = now.duration_since(at).as_secs_f64();
            (wall > 0.0).then(|| {
                ticks.saturating_sub(before) as f64 / self.ticks_per_sec as f64 / wall * 100.0
            })
        });
        self.last = Some((now, ticks));
        out
    }
}

/// utime + stime (clock ticks) from `/proc/self/stat`.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; fields resume after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3 of the man page, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn read(data_dir: &Path, cpu: &mut CpuMeter) -> SystemFigures {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_mb = status_kb(&status, "VmRSS:").map(|kb| kb as f64 / 1024.0);
    let threads = status_kb(&status, "Threads:");
    let cpu_percent = cpu_ticks().and_then(|t| cpu.percent(t));
    let open_files = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    let dir = if data_dir.exists() {
        data_dir
    } else {
        Path::new(".")
    };
    let (disk_free_mb, disk_total_mb) = match rustix::fs::statvfs(dir) {
        Ok(v) => (
            Some((v.f_bavail * v.f_frsize) as f64 / 1_048_576.0),
            Some((v.f_blocks * v.f_frsize) as f64 / 1_048_576.0),
        ),
        Err(_) => (None, None),
    };
    SystemFigures {
        rss_mb,
        cpu_percent,
        disk_free_mb,
        disk_total_mb,
        open_files,
        threads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let mut cpu = CpuMeter::default();
        let first = read(Path::new("."), &mut cpu);
        assert!(first.rss_mb.is_some_and(|m| m > 0.0));
        assert!(first.disk_free_mb.is_some());
        assert_eq!(first.cpu_percent, None);
        let second = read(Path::new("."), &mut cpu);
        assert!(second.cpu_percent.is_some_and(|c| c >= 0.0));
    }
}
