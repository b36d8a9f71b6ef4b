#!/usr/bin/env bash
# The package as users get it: stage a copy, put the built addon into its platform package
# (napi artifacts), fill optionalDependencies (napi pre-publish, no publishing), npm pack both,
# install the tarballs into a fresh project with no Rust toolchain on PATH, then connect two
# peers there through require() and through import, inside the private network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stage="$work/stage"
mkdir -p "$stage/artifacts"
cp -r package.json index.js index.mjs index.d.ts lib binding.js binding.d.ts README.md npm "$stage/"
cp simple-peer-native.linux-x64-gnu.node "$stage/artifacts/"
(
  cd "$stage"
  # This machine builds one target; the release workflow has them all.
  node -e "const fs = require('fs'); const p = require('./package.json'); p.napi.targets = ['x86_64-unknown-linux-gnu']; fs.writeFileSync('package.json', JSON.stringify(p, null, 2))"
  "$root/node_modules/.bin/napi" artifacts --output-dir artifacts >/dev/null 2>&1
  # pre-publish reads the release commit, as it would in the release workflow.
  git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm "v$(node -p "require('./package.json').version")"
  "$root/node_modules/.bin/napi" pre-publish --skip-optional-publish -t npm >/dev/null
  node -e "const o = require('./package.json').optionalDependencies || {}; if (!o['simple-peer-native-linux-x64-gnu']) { console.error('pre-publish left optionalDependencies empty'); process.exit(1) }"
  npm pack --silent --pack-destination "$work" . ./npm/linux-x64-gnu >/dev/null
)
version=$(node -p "require('./package.json').version")

app="$work/app"
mkdir "$app"
cp __test__/install/check.cjs __test__/install/check.mjs __test__/install/connect.js "$app/"
cd "$app"
echo '{ "name": "install-check", "private": true }' > package.json
# --omit=optional: the other platforms' packages exist only on the registry once published.
npm install --offline --omit=optional --no-audit --no-fund --loglevel=error \
  "$work/simple-peer-native-$version.tgz" "$work/simple-peer-native-linux-x64-gnu-$version.tgz"

# No cargo, rustc or napi reachable: the addon must come from the platform package.
path=$(dirname "$(command -v node)"):/usr/bin:/bin
[ -z "$(PATH=$path command -v cargo || true)" ] || { echo "cargo still on PATH" >&2; exit 1; }
env -i PATH="$path" HOME="$app" bash "$root/scripts/netns.sh" sh -c 'node check.cjs && node check.mjs'
