#!/usr/bin/env bash
# Builds the .deb, unpacks it into a fresh tree (dpkg -x) and runs the binary from there.
set -euo pipefail
build=${1:?build dir}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/actorcable_*.deb)
echo "package: $(basename "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "depends: $depends"
for lib in libcaf-core libboost-json libpq5 libssl; do
  [[ "$depends" == *"$lib"* ]] || { echo "FAIL: $lib missing from Depends"; exit 1; }
done
dpkg-deb -c "$deb" > "$out/contents"
grep -q './lib/systemd/system/actorcable.service' "$out/contents" || { echo "FAIL: no unit"; exit 1; }
grep -q './usr/share/actorcable/web/vendor/actioncable.esm.js' "$out/contents" || { echo "FAIL: no web assets"; exit 1; }
grep -q './etc/actorcable/actorcable.ini' "$out/contents" || { echo "FAIL: no config"; exit 1; }
root=$out/root
dpkg -x "$deb" "$root"
version=$("$root/usr/bin/actorcable" --version)
echo "$version"
[[ "$version" == "actorcable "* ]] || { echo "FAIL: --version"; exit 1; }
"$root/usr/bin/actorcable" --help | grep -q "serve" || { echo "FAIL: --help"; exit 1; }
grep -q "web_root = /usr/share/actorcable/web" "$root/etc/actorcable/actorcable.ini" || { echo "FAIL: installed web_root"; exit 1; }
grep -q "NoNewPrivileges=yes" "$root/lib/systemd/system/actorcable.service"
grep -q "ProtectSystem=strict" "$root/lib/systemd/system/actorcable.service"
grep -q "/etc/actorcable/cluster/" "$root/lib/systemd/system/actorcable.service" || { echo "FAIL: unit names the cluster's files"; exit 1; }
dpkg-deb -e "$deb" "$out/control"
grep -q "install -d -o actorcable -g actorcable -m 0700 /etc/actorcable/cluster" "$out/control/postinst" \
  || { echo "FAIL: postinst makes /etc/actorcable/cluster"; exit 1; }
# The installed config is valid as shipped.
"$root/usr/bin/actorcable" --config "$root/etc/actorcable/actorcable.ini" config >/dev/null
echo "package test passed"
