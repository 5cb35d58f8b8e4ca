#!/usr/bin/env bash
# X API v1.1 chunked upload with curl, as a shell user would write it: INIT, every segment over one
# kept-alive connection (one curl, --next per segment), FINALIZE. Prints {"media_id": "..."}.
#
#   x_curl_upload.sh URL TOKEN CA_CERT TOTAL_BYTES PARTS_DIR [MEDIA_TYPE] [MEDIA_CATEGORY]
#
# URL is .../1.1/media/upload.json; PARTS_DIR holds the segments as part-0000, part-0001... (split -d).
# OAuth 2.0 bearer: curl cannot sign OAuth 1.0a requests itself.
set -euo pipefail
url=$1 token=$2 ca=$3 total=$4 parts=$5 media_type=${6:-video/mp4} category=${7:-amplify_video}
common=(-sS --fail-with-body --cacert "$ca" -H "Authorization: Bearer $token")

init=$(curl "${common[@]}" -d command=INIT -d "total_bytes=$total" -d "media_type=$media_type" \
  -d "media_category=$category" "$url")
media_id=$(sed -n 's/.*"media_id_string":"\([0-9]*\)".*/\1/p' <<<"$init")
[[ -n $media_id ]] || { echo "INIT answered: $init" >&2; exit 1; }

appends=() index=0
for part in "$parts"/part-*; do
  appends+=("${common[@]}" -o /dev/null -F command=APPEND -F "media_id=$media_id" -F "segment_index=$index"
            -F "media=@$part" "$url" --next)
  index=$((index + 1))
done
curl "${appends[@]:0:${#appends[@]}-1}"  # all but the trailing --next

curl "${common[@]}" -o /dev/null -d command=FINALIZE -d "media_id=$media_id" "$url"
echo "{\"media_id\": \"$media_id\"}"
