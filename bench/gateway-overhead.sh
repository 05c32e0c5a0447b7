#!/usr/bin/env bash
# Time to first streamed byte: a streaming backend called directly, through Dynamo.Gateway, and through nginx (Debian's
# package, installed here when missing), all in the same run. Usage: bench/gateway-overhead.sh [--requests N] [--concurrency C]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "nginx not found; installing Debian's nginx-light" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y nginx-light >/dev/null; else sudo apt-get install -y nginx-light >/dev/null; fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
exec dotnet run -c Release --project bench/Dynamo.Gateway.Bench -- --nginx "$NGINX" "$@"
