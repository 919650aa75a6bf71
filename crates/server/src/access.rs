//! Who may do and see what. One table, checked on the server for every request:
//!
//! | role | advance cases, record inspections | assign | notes, upload evidence | site address and name | subscriber identity | evidence subjects (IPs, meters, wallets) | audit |
//! |---|---|---|---|---|---|---|---|
//! | network | no | no | yes | masked | pseudonymous id | yes | no |
//! | grid | yes | no | yes | yes | no | yes | no |
//! | finance | no | no | yes | masked | no | yes | no |
//! | police | yes | no | yes | yes | yes | yes | no |
//! | coordination | yes | yes | yes | yes | yes | yes | verify |
//! | auditor | no | no | no | no | no | no | verify, read |
//! | admin | yes | yes | yes | yes | yes | yes | verify, read |
//!
//! Every role is confined to its region (a GB/T 2260 prefix; empty for everywhere): cases
//! outside it do not exist for that user (404, not 403, so their existence does not leak).

use minewatch_store::users::{Role, User};

use crate::ApiError;

/// What a role may do.
pub fn may_advance(role: Role) -> bool {
    matches!(
        role,
        Role::Grid | Role::Police | Role::Coordination | Role::Admin
    )
}

/// May add notes and inspection outcomes.
pub fn may_annotate(role: Role) -> bool {
    role != Role::Auditor
}

/// Sees a site's exact address, name and owner.
pub fn sees_address(role: Role) -> bool {
    matches!(
        role,
        Role::Grid | Role::Police | Role::Coordination | Role::Admin
    )
}

/// Sees who a subscriber is (the id in attributions).
pub fn sees_subscriber(role: Role) -> bool {
    matches!(
        role,
        Role::Network | Role::Police | Role::Coordination | Role::Admin
    )
}

/// Sees evidence subjects: addresses, meters, wallets.
pub fn sees_subjects(role: Role) -> bool {
    role != Role::Auditor
}

/// May assign cases to departments.
pub fn may_assign(role: Role) -> bool {
    matches!(role, Role::Coordination | Role::Admin)
}

/// The department a role hands evidence in for; None for roles that do not.
pub fn department(role: Role) -> Option<&'static str> {
    match role {
        Role::Network => Some("network"),
        Role::Grid => Some("grid"),
        Role::Finance => Some("finance"),
        Role::Police => Some("police"),
        Role::Coordination | Role::Admin => Some("coordination"),
        Role::Auditor => None,
    }
}

/// May disable, enable and reset users and revoke tokens.
pub fn may_manage_accounts(role: Role) -> bool {
    matches!(role, Role::Admin)
}

/// Whether the role may check the audit chain.
pub fn may_verify_audit(role: Role) -> bool {
    matches!(role, Role::Auditor | Role::Coordination | Role::Admin)
}

/// True when a region code lies inside the user's scope.
pub fn in_scope(user: &User, region: &str) -> bool {
    region.starts_with(&user.region)
}

/// The region filter a user's query may use: their scope, narrowed by what they asked for;
/// asking for a region outside the scope is refused.
pub fn scoped_region(user: &User, asked: Option<&str>) -> Result<Option<String>, ApiError> {
    match asked {
        None if user.region.is_empty() => Ok(None),
        None => Ok(Some(user.region.clone())),
        Some(a) if a.starts_with(&user.region) => Ok(Some(a.to_string())),
        Some(a) if user.region.starts_with(a) => Ok(Some(user.region.clone())),
        Some(a) => Err(ApiError::Forbidden(format!(
            "region {a} is outside your scope ({})",
            user.region
        ))),
    }
}

/// The masked form of text a role may not see.
pub const MASK: &str = "***";

/// An address cut to what the role may see: whole, or nothing.
pub fn mask_address(role: Role, address: Option<String>) -> Option<String> {
    if sees_address(role) {
        address
    } else {
        address.map(|_| MASK.to_string())
    }
}

/// An evidence subject as the role may see it.
pub fn mask_subject(role: Role, subject: String) -> String {
    if sees_subjects(role) {
        subject
    } else {
        MASK.to_string()
    }
}

/// An attribution (`ip-assignment:U1`) as the role may see it.
pub fn mask_attribution(role: Role, by: Option<String>) -> Option<String> {
    match by {
        Some(b) if b.starts_with("ip-assignment:") && !sees_subscriber(role) => {
            Some(format!("ip-assignment:{MASK}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, region: &str) -> User {
        User {
            user_id: 1,
            name: "u".into(),
            role,
            region: region.into(),
            disabled: false,
            must_change_password: false,
        }
    }

    #[test]
    fn regions_narrow_and_never_widen() {
        let u = user(Role::Grid, "1502");
        assert_eq!(scoped_region(&u, None).unwrap().as_deref(), Some("1502"));
        assert_eq!(
            scoped_region(&u, Some("15")).unwrap().as_deref(),
            Some("1502")
        );
        assert_eq!(
            scoped_region(&u, Some("150202")).unwrap().as_deref(),
            Some("150202")
        );
        assert!(scoped_region(&u, Some("51")).is_err());
        assert_eq!(
            scoped_region(&user(Role::Admin, ""), Some("51"))
                .unwrap()
                .as_deref(),
            Some("51")
        );
        assert!(in_scope(&u, "150202") && !in_scope(&u, "150602"));
    }

    #[test]
    fn masking_follows_the_table() {
        assert_eq!(
            mask_address(Role::Auditor, Some("No. 1".into())).as_deref(),
            Some(MASK)
        );
        assert_eq!(
            mask_address(Role::Grid, Some("No. 1".into())).as_deref(),
            Some("No. 1")
        );
        assert_eq!(mask_subject(Role::Auditor, "10.0.0.1".into()), MASK);
        assert_eq!(
            mask_attribution(Role::Grid, Some("ip-assignment:U1".into())).as_deref(),
            Some("ip-assignment:***")
        );
        assert_eq!(
            mask_attribution(Role::Police, Some("ip-assignment:U1".into())).as_deref(),
            Some("ip-assignment:U1")
        );
    }
}
