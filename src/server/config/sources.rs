//! Raw setting values, the environment first and then the TOML file, and the problems
//! found while reading them: every bad value is collected so one start reports them all.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    str::FromStr,
};

use super::secret::redact_url;

/// One or more settings were wrong; each line names the variable and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Where raw setting values come from, env first, then the TOML file.
pub struct Sources {
    env: HashMap<String, String>,
    file: BTreeMap<String, String>,
    file_path: Option<PathBuf>,
    problems: Vec<String>,
    /// The union of the sections' `KEYS`, so no list of keys is kept apart from the
    /// parser that reads them.
    known: Vec<&'static str>,
    /// The keys read, in order: a test holds each section to its `KEYS` with it.
    #[cfg(test)]
    asked: Vec<&'static str>,
}

pub(super) fn env_name(key: &str) -> String {
    format!("HEADROOM_{}", key.to_ascii_uppercase())
}

impl Sources {
    /// `file` is a TOML file's path and text. A key it has that is not `known` is a
    /// problem, not a warning: a typo there would otherwise be silently ignored.
    pub fn new(
        env: HashMap<String, String>,
        file: Option<(PathBuf, String)>,
        known: Vec<&'static str>,
    ) -> Self {
        let mut problems = Vec::new();
        let mut table = BTreeMap::new();
        let file_path = file.as_ref().map(|(p, _)| p.clone());
        if let Some((path, text)) = file {
            match text.parse::<toml::Table>() {
                Ok(parsed) => {
                    for (k, v) in parsed {
                        if !known.contains(&k.as_str()) {
                            problems.push(format!(
                                "  {}: unknown key `{k}` (known: {})",
                                path.display(),
                                known.join(", ")
                            ));
                            continue;
                        }
                        let text = match v {
                            toml::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        table.insert(k, text);
                    }
                }
                Err(e) => problems.push(format!("  {}: not valid TOML: {e}", path.display())),
            }
        }
        Sources {
            env,
            file: table,
            file_path,
            problems,
            known,
            #[cfg(test)]
            asked: Vec::new(),
        }
    }

    /// The value of `key` and where it came from (the variable, or file and key).
    pub fn raw(&mut self, key: &'static str) -> Option<(String, String)> {
        // A key read but not known would be refused in the file and warned of in env.
        debug_assert!(self.known.contains(&key), "`{key}` is missing from KEYS");
        #[cfg(test)]
        self.asked.push(key);
        let var = env_name(key);
        if let Some(v) = self.env.get(&var).filter(|v| !v.is_empty()) {
            return Some((v.clone(), var));
        }
        let origin = match &self.file_path {
            Some(p) => format!("{} (key `{key}`)", p.display()),
            None => key.to_string(),
        };
        self.file.get(key).map(|v| (v.clone(), origin))
    }

    pub fn parse<T>(&mut self, key: &'static str, default: T, allowed: &str) -> T
    where
        T: FromStr,
    {
        self.parse_with(key, default, allowed, |s| s.parse().ok())
    }

    /// `f` both parses and checks the range; `None` records that `allowed` was expected
    /// and keeps `default`, so parsing goes on to find the other problems.
    pub fn parse_with<T>(
        &mut self,
        key: &'static str,
        default: T,
        allowed: &str,
        f: impl Fn(&str) -> Option<T>,
    ) -> T {
        match self.raw(key) {
            None => default,
            Some((value, origin)) => match f(value.trim()) {
                Some(v) => v,
                None => {
                    let shown = if key.ends_with("_url") {
                        redact_url(&value)
                    } else {
                        value
                    };
                    self.problems
                        .push(format!("  {origin} = {shown:?}: expected {allowed}"));
                    default
                }
            },
        }
    }

    /// A switch that is off unless set.
    pub fn flag(&mut self, key: &'static str) -> bool {
        self.parse_with(key, false, "true or false", parse_bool)
    }

    /// For a value read with [`Sources::raw`] whose problem says more than `expected …`.
    pub fn problem(&mut self, line: String) {
        self.problems.push(line);
    }

    /// Fails with every problem found. Unknown `HEADROOM_` variables are only warned of.
    pub fn finish(self) -> Result<(), ConfigError> {
        let known: Vec<String> = self.known.iter().map(|k| env_name(k)).collect();
        for var in self.env.keys() {
            if var.starts_with("HEADROOM_") && var != "HEADROOM_CONFIG" && !known.contains(var) {
                // Not fatal: tooling may set its own HEADROOM_TEST_* variables. Logged later.
                tracing::warn!(variable = %var, "unknown HEADROOM_ variable ignored");
            }
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }

    #[cfg(test)]
    pub fn asked(&self) -> &[&'static str] {
        &self.asked
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
