#!/usr/bin/env bash
# build-deb.sh BINARY MANPAGE OUTDIR: the Debian package s3mount_<version>_<arch>.deb from a static-stdlib build of
# s3mount (make deb builds BINARY and MANPAGE, then runs this). Everything installed comes from packaging/:
#   /usr/bin/s3mount                          BINARY; nothing from the Swift toolchain may appear in its ldd
#   /sbin/mount.s3mount                       deb/mount.s3mount: `mount -t s3mount` and fstab type s3mount
#                                             (fstab type fuse.s3mount goes through fuse3's mount.fuse3)
#   /lib/systemd/system/*.service             every unit under packaging/systemd/
#   /usr/share/man/man1/s3mount.1.gz          MANPAGE (swift package generate-manual)
#   /usr/share/man/man8/mount.s3mount.8.gz    deb/mount.s3mount.8
#   bash, zsh and fish completions            s3mount --generate-completion-script SHELL
#   /usr/share/doc/s3mount/                   copyright, changelog.gz, examples/ (fstab, s3mount.env)
# The version is the one the binary prints (BuildInfo.version), with its commit; Depends is what dpkg-shlibdeps
# finds behind the binary's NEEDED libraries, plus fuse3 (fusermount3, mount.fuse3).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BINARY MANPAGE OUTDIR" >&2; exit 64; }
binary=$(realpath "$1")
manpage=$(realpath "$2")
outdir=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packaging=$(dirname "$here")
export LC_ALL=C.UTF-8

fail() { echo "build-deb: $*" >&2; exit 1; }

toolchain_libraries=$(ldd "$binary" | grep -E '/opt/swift|libswift|libFoundation|libdispatch|libBlocksRuntime|_FoundationICU' || true)
[ -z "$toolchain_libraries" ] ||
    fail "$binary links Swift toolchain libraries (build it with --static-swift-stdlib):"$'\n'"$toolchain_libraries"

# "0.1.0 (commit abc1234)"
version_line=$("$binary" --version)
version=${version_line%% *}
commit=$(sed -n 's/.*(commit \(.*\))$/\1/p' <<<"$version_line")
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || fail "'$binary --version' printed '$version_line': no version in it"
[ -n "$commit" ] || fail "'$binary --version' printed '$version_line': no commit in it"
arch=$(dpkg --print-architecture)
# Dates in the package are the commit's, so that two builds of one commit give the same files.
commit_epoch=$(git -C "$packaging" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$commit_epoch

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/src/debian/s3mount  # where dpkg-shlibdeps expects a package's files
doc=$root/usr/share/doc/s3mount

install -D -m 0755 "$binary" "$root/usr/bin/s3mount"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/s3mount"
install -D -m 0755 "$here/mount.s3mount" "$root/sbin/mount.s3mount"
for unit in "$packaging"/systemd/*.service; do
    [ -e "$unit" ] || continue
    install -D -m 0644 "$unit" "$root/lib/systemd/system/$(basename "$unit")"
done

install -d "$root/usr/share/man/man1" "$root/usr/share/man/man8"
gzip -9n <"$manpage" >"$root/usr/share/man/man1/s3mount.1.gz"
gzip -9n <"$here/mount.s3mount.8" >"$root/usr/share/man/man8/mount.s3mount.8.gz"

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
# bash-completion sources its files: no #! line
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/s3mount"
"$binary" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_s3mount"
"$binary" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/s3mount.fish"

install -D -m 0644 "$here/copyright" "$doc/copyright"
install -D -m 0644 -t "$doc/examples" "$here/examples/fstab" "$here/examples/s3mount.env"
{
    echo "s3mount ($version) unstable; urgency=medium"
    echo
    echo "  * Release $version, built from commit $commit. What changed is in the"
    echo "    project's git history."
    echo
    echo " -- $(sed -n 's/^Maintainer: //p' "$here/control.in")  $(date -u -R -d "@$commit_epoch")"
} | gzip -9n >"$doc/changelog.gz"

# Depends: dpkg-shlibdeps reads the binary's NEEDED entries and the installed packages' symbols files.
install -d "$root/DEBIAN"
printf 'Source: s3mount\n\nPackage: s3mount\nArchitecture: any\n' >"$work/src/debian/control"
shlib_depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/s3mount" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlib_depends" ] || fail "dpkg-shlibdeps found no library dependencies for $binary"
depends="fuse3, $shlib_depends"

installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    -e "s/@DEPENDS@/$depends/" "$here/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch --no-dereference -d "@$commit_epoch" {} +

mkdir -p "$outdir"
deb=$outdir/s3mount_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
