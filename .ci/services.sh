#!/bin/sh
# Debian packages the chart/render tests start as real services on loopback:
#   docker-registry  OCI registry (distribution 2.8, /usr/bin/docker-registry)
#   git              Git remotes for GitRepository-sourced charts
#   openssl          signs the registry tokens of the token-auth tests
#   chromium, chromium-driver  a real browser for the HTML report tests (headless, driven by Selenium);
#                    a browser that a Python package would download cannot be fetched
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
apt-get install -y -qq --no-install-recommends docker-registry git openssl ca-certificates \
    chromium chromium-driver
if [ "$created_policy" = yes ]; then
    rm -f "$policy"
fi
