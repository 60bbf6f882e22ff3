//! Everything the browser sees. Pages and components render on the server only; the
//! `islands` are the interactive parts, rendered on the server *and* hydrated in the
//! browser — only their code is compiled into the WebAssembly bundle.

pub mod app;
pub mod components;
pub mod format;
pub mod islands;
#[cfg(feature = "hydrate")]
pub mod json_get;
pub mod offline;
pub mod pages;
#[cfg(feature = "hydrate")]
pub mod series_fetch;

#[cfg(test)]
mod stylesheet {
    /// An unclosed rule is not an error to the CSS bundler: it reads everything after it
    /// as nested inside (`.perf-alerts form.inline .app-status`), and those styles
    /// silently stop applying. Rules here nest only inside at-rules.
    #[test]
    fn every_rule_is_closed_and_only_at_rules_nest() {
        let css = include_str!("../../style/main.css");
        let mut stack: Vec<bool> = Vec::new(); // true: an at-rule's block
        let mut text = String::new();
        let mut chars = css.chars().peekable();
        let mut line = 1;
        while let Some(c) = chars.next() {
            if c == '\n' {
                line += 1;
            }
            if c == '/' && chars.peek() == Some(&'*') {
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if d == '\n' {
                        line += 1;
                    }
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                continue;
            }
            match c {
                '{' => {
                    let at_rule = text.trim_start().starts_with('@');
                    assert!(
                        stack.iter().all(|a| *a),
                        "line {line}: a rule opened inside another rule (is a `}}` missing above?)"
                    );
                    stack.push(at_rule);
                    text.clear();
                }
                '}' => {
                    assert!(stack.pop().is_some(), "line {line}: a `}}` closes nothing");
                    text.clear();
                }
                ';' => text.clear(),
                c => text.push(c),
            }
        }
        assert!(stack.is_empty(), "{} rule(s) never closed", stack.len());
    }
}
