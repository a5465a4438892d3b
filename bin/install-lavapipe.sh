#!/usr/bin/env bash
# Installs a WebGPU-capable software Vulkan driver (Mesa lavapipe >= 23) on a machine without a GPU.
# Dawn rejects Mesa < 23; Debian bookworm ships 22.3, so on bookworm this takes mesa-vulkan-drivers
# from bookworm-backports, using the mirror URI that the machine's own apt sources already name.
# Other distributions: install your distribution's Mesa Vulkan drivers (>= 23) and the Vulkan loader.
# Idempotent: does nothing when a new-enough lavapipe is already installed. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

mesa_version() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^[0-9]+://; s/[^0-9.].*$//'
}
have_icd() { ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; }
new_enough() {
  local v; v="$(mesa_version)"; [ -n "$v" ] || return 1
  [ "${v%%.*}" -ge 23 ] 2>/dev/null
}

if have_icd && new_enough && ldconfig -p | grep -q libvulkan.so.1; then
  echo "lavapipe: mesa-vulkan-drivers $(mesa_version) already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "lavapipe: no apt-get here. Install Mesa's Vulkan drivers (>= 23, 'lavapipe') and the Vulkan loader with your package manager." >&2
  exit 1
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"
target=()
if [ "$codename" = bookworm ]; then
  # Reuse the URI of the machine's own Debian mirror (deb822 or one-line format).
  uri="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)"
  if [ -z "$uri" ]; then
    uri="$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E ' bookworm( |$)' | awk '{print $2}' | head -n1 || true)"
  fi
  if [ -z "$uri" ]; then
    echo "lavapipe: could not find the Debian mirror in /etc/apt/sources.list*; add bookworm-backports yourself." >&2
    exit 1
  fi
  list=/etc/apt/sources.list.d/wgnas-bookworm-backports.list
  if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb $uri bookworm-backports main" | $SUDO tee "$list" >/dev/null
  fi
  target=(-t bookworm-backports)
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
if ! new_enough; then
  echo "lavapipe: installed mesa-vulkan-drivers $(mesa_version), but Dawn needs >= 23." >&2
  exit 1
fi
echo "lavapipe: mesa-vulkan-drivers $(mesa_version) installed"
