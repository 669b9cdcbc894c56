"""Peer of figure 3: python memory_whole_files.py BASE_URL KEY INPUT OUTPUT

Upload, wait, download as SDK-based tools do: the whole input in memory (and
once more as the POST body), the whole output in memory. Prints the output
size."""
import sys
import time

from whole_file_api import TERMINAL, Api

base, key, inp, out = sys.argv[1:5]
api = Api(base, key)
with open(inp, "rb") as f:
    content = f.read()                                  # the whole input in memory
fid = api.upload(content)
del content
batch = api.create(fid)
while batch["status"] not in TERMINAL:
    time.sleep(1)
    batch = api.retrieve(batch["id"])
data = api.content(batch["output_file_id"])             # the whole output
with open(out, "wb") as f:
    f.write(data)
print(len(data))
