//! The languages minewatch speaks to people: Simplified Chinese first, and English. One type
//! for the CLI's tables, the web UI and the printable documents.

/// A language of output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese (简体中文), the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Parses `zh-CN`, `zh`, `cn`, `en`, `en-US`, `en-GB` (any case).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 tag (`zh-CN`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_back() {
        for l in [Lang::Zh, Lang::En] {
            assert_eq!(Lang::parse(l.tag()), Some(l));
        }
        assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
