#!/usr/bin/env bash
# generate-onnx-proto.sh - regenerates Sources/PicassoONNX/onnx.pb.swift, the Swift types of
# ONNX's onnx.proto, which is committed (building needs neither protoc nor the plugin).
# Run it only to move to another ONNX release:
#   - onnx.proto comes from the onnx wheel on PyPI (version ONNX_VERSION below);
#   - protoc from Debian's protobuf-compiler;
#   - protoc-gen-swift is built from swift-protobuf at SWIFT_PROTOBUF_VERSION (a few minutes),
#     the version Package.swift resolves, so the generated code matches the runtime.
# Usage: Scripts/generate-onnx-proto.sh
set -euo pipefail

ONNX_VERSION=1.23.2
SWIFT_PROTOBUF_VERSION=1.39.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { echo "generate-onnx-proto: $*" >&2; }

command -v protoc >/dev/null || { log "installing protobuf-compiler"; sudo apt-get install -y -qq protobuf-compiler >/dev/null; }

log "onnx.proto from onnx $ONNX_VERSION"
python3 -m pip download -q --disable-pip-version-check --no-deps "onnx==$ONNX_VERSION" -d "$WORK/wheel"
python3 -m zipfile -e "$WORK"/wheel/onnx-*.whl "$WORK/wheel/x"
mkdir -p "$WORK/proto"
cp "$WORK/wheel/x/onnx/onnx.proto" "$WORK/proto/onnx.proto"

log "building protoc-gen-swift $SWIFT_PROTOBUF_VERSION"
mkdir -p "$WORK/plugin"
cat > "$WORK/plugin/Package.swift" <<SWIFT
// swift-tools-version:5.9
import PackageDescription
let package = Package(name: "plugin", dependencies: [.package(url: "https://github.com/apple/swift-protobuf", exact: "$SWIFT_PROTOBUF_VERSION")], targets: [])
SWIFT
(cd "$WORK/plugin" && swift package resolve >/dev/null && cd .build/checkouts/swift-protobuf && swift build -c release --product protoc-gen-swift >/dev/null)
PLUGIN="$WORK/plugin/.build/checkouts/swift-protobuf/.build/release/protoc-gen-swift"

log "generating"
mkdir -p "$WORK/out"
protoc --plugin=protoc-gen-swift="$PLUGIN" --swift_out="$WORK/out" --proto_path="$WORK/proto" "$WORK/proto/onnx.proto"
cp "$WORK/out/onnx.pb.swift" "$ROOT/Sources/PicassoONNX/onnx.pb.swift"
log "wrote Sources/PicassoONNX/onnx.pb.swift (onnx $ONNX_VERSION, swift-protobuf $SWIFT_PROTOBUF_VERSION)"
