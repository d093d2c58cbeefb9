#!/usr/bin/env bash
# Prints the path of versitygw v1.8.0, the S3 server of the storage tests and of make bench-s3,
# installing it first when $(go env GOBIN) (or GOPATH/bin) has no binary of that version, as .ci/run
# does (about 6 minutes on 2 cores, then cached). VGW_INSTALL=0 fails instead of installing.
set -euo pipefail
VGW_VERSION=v1.8.0
gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH | cut -d: -f1)/bin}"
vgw_version() { go version -m "$gobin/versitygw" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/versity/versitygw" { print $3 }'; }
if [ "$(vgw_version)" != "$VGW_VERSION" ]; then
  if [ "${VGW_INSTALL:-1}" = 0 ]; then
    echo "versitygw $VGW_VERSION is not in $gobin (found: '$(vgw_version)'); install it with: go install github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" >&2
    exit 1
  fi
  echo "installing versitygw $VGW_VERSION into $gobin (found: '$(vgw_version)'; about 6 minutes on 2 cores)" >&2
  go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" >&2 ||
    { echo "could not install versitygw: install it with go install github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" >&2; exit 1; }
fi
echo "$gobin/versitygw"
