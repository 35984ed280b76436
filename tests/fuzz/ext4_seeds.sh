#!/bin/sh
# Seed images for the ext4 fuzz target: tiny file systems (128 KiB, 1k blocks)
# in several formats, each with a file, a symlink and an indexed directory.
set -e
out=$1
PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.ext4 >/dev/null || { echo "ext4_seeds: mkfs.ext4 missing (e2fsprogs)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/s/d" "$out"
printf 'some file data\n' > "$tmp/s/a"
ln -s a "$tmp/s/fast"
ln -s "$(printf 'z%.0s' $(seq 1 80))" "$tmp/s/slow"
(cd "$tmp/s/d" && seq -f 'entry-name-%03g' 0 70 | xargs touch)
n=0
for o in "-N 96 -O none,filetype,extent,dir_index,metadata_csum,64bit" \
         "-N 96 -O none,filetype,dir_index,extent,flex_bg,uninit_bg" \
         "-I 128 -N 96 -O none,filetype,dir_index" \
         "-N 96 -O none,filetype,extent,flex_bg,inline_data,metadata_csum"; do
    img="$out/seed$n.img"
    rm -f "$img"
    truncate -s 128K "$img"
    mkfs.ext4 -q -F -b 1024 $o -d "$tmp/s" "$img" >/dev/null 2>&1
    e2fsck -fyD "$img" >/dev/null 2>&1 || true
    n=$((n + 1))
done
