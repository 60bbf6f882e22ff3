//! Leptos's site settings, from `Leptos.toml` compiled into the binary, overridden by
//! `LEPTOS_*` variables at run time (the same names cargo-leptos uses).

use leptos::config::LeptosOptions;

/// The repository's `Leptos.toml`, as it was when this binary was built.
const LEPTOS_TOML: &str = include_str!("../../Leptos.toml");

/// Site options for this run.
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    leptos::config::get_config_from_str(LEPTOS_TOML)
        .map_err(|e| anyhow::anyhow!("Leptos.toml / LEPTOS_* settings: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leptos_toml_names_the_site() {
        let o = leptos_options().expect("Leptos.toml parses");
        assert_eq!(&*o.output_name, "headroom");
        assert_eq!(&*o.site_pkg_dir, "pkg");
    }
}
