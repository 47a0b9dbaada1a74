#!/bin/sh
# Debian packages the chart/render tests start as real services on loopback:
#   docker-registry  OCI registry (distribution 2.8, /usr/bin/docker-registry)
#   git              Git remotes for GitRepository-sourced charts
#   openssl          signs the registry tokens of the token-auth tests
#   chromium, chromium-driver  a real browser for the HTML report tests (headless, driven by Selenium);
#                    a browser that a Python package would download cannot be fetched
#   strace           watches every file a command opens on a hostile repository (none may be outside it)
#   gcc, libc6-dev   build the native launcher (homeops.launcher: `homeops check` without Python's start-up)
# The package's own service is kept from starting: tests run their own registries on free ports.
#   sh .ci/services.sh              say what is installed and why, then install (as root)
#   sh .ci/services.sh --describe   only say it (one line; ./dev prints it before asking for sudo)
#   sh .ci/services.sh --described  install without saying it again
set -eu
PACKAGES="docker-registry git openssl ca-certificates chromium chromium-driver strace gcc libc6-dev"
WHY="the tests start a real OCI registry, Git remotes and registry token signing on loopback, open HTML reports in a real headless browser, trace which files a command opens, and build the native launcher"
case "${1:-}" in
    --describe)
        echo "installing Debian packages as root: $PACKAGES ($WHY)"
        exit 0
        ;;
    --described) ;;
    *) echo "services.sh: installing Debian packages as root: $PACKAGES ($WHY)" >&2 ;;
esac
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=yes
fi
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq --no-install-recommends $PACKAGES
if [ "$created_policy" = yes ]; then
    rm -f "$policy"
fi
