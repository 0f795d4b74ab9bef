//! Privileges: the one sentence every mode that opens raw sockets prints when it may not,
//! and the drop to an unprivileged user once the sockets are open (as `tcpdump -Z`).
//! Reading files needs and uses no privilege at all.

use std::ffi::CString;

/// Why privileges could not be dropped.
#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    /// The user does not exist.
    #[error("there is no user named {0:?} to switch to (see /etc/passwd).")]
    NoSuchUser(String),
    /// A system call refused.
    #[error("could not switch to user {user:?}: {call} failed: {source}.")]
    Call {
        /// The user asked for.
        user: String,
        /// Which call failed.
        call: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The sentence shown when opening a raw socket on `iface` was refused: what is
/// missing, where, and the two fixes.
pub fn permission_message(iface: &str, doing: &str) -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "wirelens".to_string());
    format!(
        "{doing} on {iface} needs the CAP_NET_RAW capability, which this process does not have. \
         Run it with sudo, or give the binary the capability once: \
         sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
    )
}

/// Switches the process to `user` (its uid, gid and no supplementary groups) for good.
/// Call it after every privileged socket is open.
pub fn drop_to_user(user: &str) -> Result<(), PrivError> {
    let name = CString::new(user).map_err(|_| PrivError::NoSuchUser(user.to_string()))?;
    // SAFETY: getpwnam reads the passwd database and returns a pointer to static storage
    // or null; we read the two integers we need before any other call can reuse it.
    let (uid, gid) = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(PrivError::NoSuchUser(user.to_string()));
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    let fail = |call| PrivError::Call {
        user: user.to_string(),
        call,
        source: std::io::Error::last_os_error(),
    };
    // SAFETY: plain system calls with integer arguments; the group list is empty.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(fail("setgroups"));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("setgid"));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("setuid"));
        }
    }
    Ok(())
}

/// True when the process runs as root (uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_interface_and_both_fixes() {
        let m = permission_message("vb", "Capturing");
        assert!(m.contains("on vb") && m.contains("CAP_NET_RAW"));
        assert!(m.contains("sudo") && m.contains("setcap cap_net_raw,cap_net_admin=eip"));
    }

    #[test]
    fn an_unknown_user_is_a_clear_error() {
        let e = drop_to_user("no-such-user-wirelens")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "there is no user named \"no-such-user-wirelens\" to switch to (see /etc/passwd)."
            )
        );
    }
}
