//! Naming the process that holds a port, so that "address in use" says who.

use std::net::SocketAddr;

/// The process listening on `addr`, as `name (pid N)`, where the OS lets us see it.
pub(crate) fn port_holder(addr: SocketAddr) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        linux::holder(addr)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = addr;
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::{fs, net::SocketAddr};

    /// The socket inode listening on `addr`, from /proc/net/tcp{,6}.
    fn listening_inode(addr: SocketAddr) -> Option<String> {
        let table = if addr.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
        let port = format!(":{:04X}", addr.port());
        fs::read_to_string(table).ok()?.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address, st (0A = LISTEN), inode
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            (local.ends_with(&port) && *state == "0A").then(|| (*inode).to_owned())
        })
    }

    pub(super) fn holder(addr: SocketAddr) -> Option<String> {
        let socket = format!("socket:[{}]", listening_inode(addr)?);
        for process in fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = process
                .file_name()
                .to_str()
                .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned)
            else {
                continue;
            };
            let Ok(fds) = fs::read_dir(process.path().join("fd")) else { continue };
            if fds.flatten().any(|fd| {
                fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == socket.as_str())
            }) {
                let name = fs::read_to_string(process.path().join("comm")).unwrap_or_default();
                return Some(format!("{} (pid {pid})", name.trim()));
            }
        }
        Some("another process".into())
    }
}
