#!/usr/bin/env bash
# X API v2 chunked upload with curl over plain http: initialize, every segment over one kept-alive
# connection (one curl, --next per segment), finalize. Prints {"media_id": "..."}.
#
#   x_v2_curl_upload.sh BASE_URL TOKEN TOTAL_BYTES PARTS_DIR [MEDIA_TYPE] [MEDIA_CATEGORY]
#
# BASE_URL is the emulator's root; PARTS_DIR holds the segments as part-0000, part-0001... (split -d).
set -euo pipefail
base=$1 token=$2 total=$3 parts=$4 media_type=${5:-video/mp4} category=${6:-amplify_video}
common=(-sS --fail-with-body -H "Authorization: Bearer $token")

init=$(curl "${common[@]}" -H "Content-Type: application/json" \
  -d "{\"total_bytes\": $total, \"media_type\": \"$media_type\", \"media_category\": \"$category\"}" \
  "$base/2/media/upload/initialize")
media_id=$(sed -n 's/.*"id":"\([0-9]*\)".*/\1/p' <<<"$init")
[[ -n $media_id ]] || { echo "initialize answered: $init" >&2; exit 1; }

appends=() index=0
for part in "$parts"/part-*; do
  appends+=("${common[@]}" -o /dev/null -F "segment_index=$index" -F "media=@$part"
            "$base/2/media/upload/$media_id/append" --next)
  index=$((index + 1))
done
curl "${appends[@]:0:${#appends[@]}-1}"  # all but the trailing --next

curl "${common[@]}" -o /dev/null -X POST "$base/2/media/upload/$media_id/finalize"
echo "{\"media_id\": \"$media_id\"}"
