#!/bin/bash
# Build the Argosy controller/executor image without docker or a registry:
#   Debian bookworm minbase (debootstrap) + python3, git, ca-certificates     -> layer 0 (cached)
#   Argosy's runtime dependencies from PyPI (pip --target, cp311 wheels)      -> layer 1 (cached by dependency list)
#   Argosy itself (a wheel built from this checkout) + /usr/local/bin/argosy  -> layer 2
# packed as a docker-save tarball (scripts/k8s/mkimage.py) that `ctr -n k8s.io images import`
# loads; pods use it with imagePullPolicy: Never. Mirrors the repo's Dockerfile (user 8737,
# WORKDIR /home/argosy, ENTRYPOINT ["argosy"], CMD ["controller"]).
#
#   scripts/k8s/build-image.sh            # -> $ARGOSY_K8S_CACHE/argosy-image.tar, prints its path
#   scripts/k8s/build-image.sh --import   # ... and imports it into the local cluster's containerd
#
# Env: ARGOSY_K8S_CACHE (default ~/.cache/argosy-k8s), ARGOSY_IMAGE (default docker.io/library/argosy:dev),
#      DEBIAN_MIRROR (default http://deb.debian.org/debian), K8S_ROOT (for --import; default ~/.cache/k8s-local).
# Needs root (debootstrap), python3 with pip (any version: wheels are chosen for the image's cp311).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${ARGOSY_K8S_CACHE:-$HOME/.cache/argosy-k8s}
IMAGE=${ARGOSY_IMAGE:-docker.io/library/argosy:dev}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
K8S_ROOT=${K8S_ROOT:-$HOME/.cache/k8s-local}
PYVER=3.11                                   # bookworm's python3
SITE=usr/local/lib/python$PYVER/dist-packages
OUT=$CACHE/argosy-image.tar
log() { echo "[$(date +%T)] build-image: $*" >&2; }
t0=$SECONDS
mkdir -p "$CACHE"

# ---- layer 0: Debian base --------------------------------------------------------------------
BASE=$CACHE/base
if [ ! -f "$BASE/.done" ]; then
  command -v debootstrap >/dev/null || apt-get -o DPkg::Lock::Timeout=900 install -y -qq debootstrap >/dev/null
  log "debootstrap bookworm (python3 git ca-certificates) into $BASE (about 2-4 min)"
  rm -rf "$BASE"
  debootstrap --variant=minbase --include=python3,git,ca-certificates bookworm "$BASE" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
  rm -rf "$BASE"/var/cache/apt/archives/*.deb "$BASE"/var/lib/apt/lists/* "$BASE"/var/log/* "$BASE"/usr/share/doc/* \
         "$BASE"/usr/share/man/* "$BASE"/usr/share/locale/*
  : > "$BASE/etc/resolv.conf"; : > "$BASE/etc/hostname"   # the kubelet provides both
  grep -q '^argosy:' "$BASE/etc/passwd" || {
    echo 'argosy:x:8737:8737::/home/argosy:/usr/sbin/nologin' >> "$BASE/etc/passwd"
    echo 'argosy:x:8737:' >> "$BASE/etc/group"
    echo 'argosy:!:19000::::::' >> "$BASE/etc/shadow"
  }
  mkdir -p "$BASE/home/argosy" && chown 8737:8737 "$BASE/home/argosy"
  touch "$BASE/.done"
  log "base done ($(du -sh "$BASE" | cut -f1))"
fi

# ---- the wheel --------------------------------------------------------------------------------
WHEELS=$CACHE/wheel && rm -rf "$WHEELS" && mkdir -p "$WHEELS"
log "building the argosy wheel from $REPO"
# build from a copy: setuptools writes build/ and *.egg-info next to the sources otherwise
SRC=$CACHE/src && rm -rf "$SRC" && mkdir -p "$SRC"
cp -r "$REPO/pyproject.toml" "$REPO/README.md" "$SRC/"
(cd "$REPO" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' argosy) | tar -xf - -C "$SRC"
python3 -m pip wheel -q --no-deps -w "$WHEELS" "$SRC" > "$CACHE/wheel.log" 2>&1 || { cat "$CACHE/wheel.log"; exit 1; }
WHEEL=$(ls "$WHEELS"/argosy-*.whl)

# ---- layer 1: dependencies (rebuilt only when the dependency list changes) ----------------------
REQS=$(python3 - "$WHEEL" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
for line in z.read(meta).decode().splitlines():
    if line.startswith("Requires-Dist:") and "extra ==" not in line:
        print(line.split(":", 1)[1].strip())
PY
)
KEY=$(printf '%s\n' "$REQS" | sha256sum | cut -c1-16)
DEPS=$CACHE/deps-$KEY
PIP_TARGET_FLAGS=(--only-binary=:all: --implementation cp --python-version $PYVER --abi cp311
                  --platform manylinux_2_36_x86_64 --platform manylinux2014_x86_64 --platform linux_x86_64)
if [ ! -f "$DEPS/.done" ]; then
  log "pip install dependencies into $DEPS: $(echo $REQS | tr '\n' ' ')"
  rm -rf "$CACHE"/deps-* && mkdir -p "$DEPS/$SITE"
  printf '%s\n' "$REQS" > "$CACHE/requirements.txt"
  python3 -m pip install -q --no-compile --target "$DEPS/$SITE" "${PIP_TARGET_FLAGS[@]}" -r "$CACHE/requirements.txt" \
    > "$CACHE/pip-deps.log" 2>&1 || { cat "$CACHE/pip-deps.log"; exit 1; }
  rm -rf "$DEPS/$SITE/bin"   # console scripts with the host's shebang; not needed
  touch "$DEPS/.done"
  log "dependencies done ($(du -sh "$DEPS" | cut -f1))"
fi

# ---- layer 2: argosy ---------------------------------------------------------------------------
APP=$CACHE/app && rm -rf "$APP" && mkdir -p "$APP/$SITE" "$APP/usr/local/bin"
python3 -m pip install -q --no-compile --no-deps --target "$APP/$SITE" "${PIP_TARGET_FLAGS[@]}" "$WHEEL" \
  > "$CACHE/pip-app.log" 2>&1 || { cat "$CACHE/pip-app.log"; exit 1; }
rm -rf "$APP/$SITE/bin"
cat > "$APP/usr/local/bin/argosy" <<'PY'
#!/usr/bin/python3
import sys
from argosy.cli.main import main
sys.exit(main())
PY
chmod 755 "$APP/usr/local/bin/argosy"
# byte-compile with the image's own interpreter (chroot into base with the two layers bind-mounted
# would be heavier); the host's python only when it is the same minor version
if python3 -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$PYVER'.split('.'))))"; then
  [ -f "$DEPS/.compiled" ] || { python3 -m compileall -q -j0 "$DEPS/$SITE" >/dev/null 2>&1 || true; touch "$DEPS/.compiled"; }
  python3 -m compileall -q -j0 "$APP/$SITE" >/dev/null 2>&1 || true
fi

# ---- pack ---------------------------------------------------------------------------------------
log "packing $IMAGE"
python3 "$HERE/mkimage.py" "$OUT" "$IMAGE" --layer "$BASE" --layer "$DEPS" --layer "$APP" \
  --entrypoint '["argosy"]' --cmd '["controller"]' --env PYTHONUNBUFFERED=1 --env PYTHONDONTWRITEBYTECODE=1 \
  --user 8737 --workdir /home/argosy
log "image $IMAGE -> $OUT ($(du -h "$OUT" | cut -f1)) in $((SECONDS - t0))s"

if [ "${1:-}" = "--import" ]; then
  t1=$SECONDS
  ctr -a "$K8S_ROOT/containerd/containerd.sock" -n k8s.io images import "$OUT" >/dev/null
  log "imported into $K8S_ROOT containerd in $((SECONDS - t1))s"
fi
echo "$OUT"
