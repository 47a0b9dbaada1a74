#!/bin/sh
# Debian packages the chart/render tests start as real services on loopback:
#   docker-registry  OCI registry (distribution 2.8, /usr/bin/docker-registry)
#   git              Git remotes for GitRepository-sourced charts
#   openssl          signs the registry tokens of the token-auth tests
#   npm              fetches Flux's API schemas (@kubernetes-models/flux-cd) for schema validation;
#                    only when no npm is installed (a NodeSource nodejs ships its own)
# The package's own service is kept from starting: tests run their own registries on free ports.
set -eu
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=yes
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker-registry git openssl ca-certificates
if ! command -v npm >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends npm
fi
if [ "$created_policy" = yes ]; then
    rm -f "$policy"
fi
