#!/usr/bin/env node
// Writes golden.json, the token ids the tokenizer tests compare against,
// with the npm package tiktoken (the WASM build of OpenAI's Rust tiktoken):
//   npm install tiktoken@1.0.22 (anywhere), then
//   NODE_PATH=THERE/node_modules node make_golden.js > golden.json
// For each encoding and text: encode_ordinary (special tokens as text) and
// encode with every special token allowed. A text is given as UTF-8 bytes
// in hex ("bytes"), so invalid UTF-8 can be in the corpus: JavaScript reads
// it as U+FFFD (TextDecoder), which is what obatch's tokenizer must do too.
'use strict';
const { get_encoding } = require('tiktoken');

const fixed = [
  'hello world', 'Hello, World!', '', ' ', '  ', '\n', '\n\n\n', '   \n  \n', 'a  b   c    d',
  "I'm here, you're there, they've gone, we'll see, he'd say, it's fine",
  "I'M HERE, YOU'RE THERE, THEY'VE GONE, WE'LL SEE, HE'D SAY, IT'S FINE",
  "don'T wOn'T cAn'T", "'s 'S 'll", '1234567890', '3.14159 2,718 1e10 0x1F',
  '日本語のテキストです。東京は大きい。', '中文文本，包含标点符号！', '한국어 텍스트입니다',
  'emoji 😀👍🏽 and 👨‍👩‍👧‍👦 family 🏳️‍🌈 flag', 'café naïve résumé', 'e\u0301 a\u0308 o\u0303\u0301',
  'Здравствуй, мир! Привет.', 'مرحبا بالعالم', 'שלום עולם', 'नमस्ते दुनिया',
  'def f(x):\n    return x ** 2  # square\n\n\tif x:\n\t\tpass\n',
  'for (int i = 0; i < n; ++i) { sum += a[i]; }\r\n',
  '<|endoftext|> between <|endofprompt|> and <|fim_prefix|>x<|fim_middle|>y<|fim_suffix|>',
  'text<|endoftext|>', '<|endoftext', 'mongolian\u180evowel', 'nel\u0085line', 'nbsp\u00a0space',
  'ideographic\u3000space', 'line\u2028sep\u2029para', 'zero\u200bwidth', 'Kelvin \u212a and \u017F',
  'ﬁ ligature ﬀ', 'tab\tseparated\tvalues', '!!!???...', '$$$ 100% &&& @user #tag',
  'https://example.com/path?query=1&b=2#frag', 'a'.repeat(300), ' '.repeat(50) + 'x',
  '\n'.repeat(20), '9'.repeat(40), 'ab'.repeat(100), '😀'.repeat(30),
  'The quick brown fox jumps over the lazy dog. '.repeat(5),
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}',
];

// Seeded random texts from a mix of scripts, spaces, digits and symbols.
let seed = 12345;
function rnd(n) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}
const pools = ['abcXYZ', ' \t\n', '0123456789', '.,!?\'"-_/()[]{}', 'éüñçß', 'αβγΔΩ', 'жшщЯ',
  '日本語中文', '한글', '😀👍🏽🎉', '\u0301\u0308', "'s'T'll", '\u00a0\u3000\u180e\u0085'];
const randoms = [];
for (let i = 0; i < 300; i++) {
  let s = '';
  const len = 1 + rnd(60);
  for (let k = 0; k < len; k++) {
    const pool = Array.from(pools[rnd(pools.length)]);
    s += pool[rnd(pool.length)];
  }
  randoms.push(s);
}

const bytes = fixed.concat(randoms).map((s) => Buffer.from(s, 'utf8'));
// Invalid UTF-8: lone continuation bytes, a cut sequence, an overlong, a
// surrogate, bytes past U+10FFFF.
for (const hex of ['80', 'c3', 'e282', 'f09f98', 'c0af', 'eda080', 'f4908080', 'ff fe',
                   '61ff62', 'e2 82 ac e2 82', '68c3a96c6c6fc3']) {
  bytes.push(Buffer.from(hex.replace(/ /g, ''), 'hex'));
}

const decoder = new TextDecoder('utf-8');
const out = [];
for (const name of ['o200k_base', 'cl100k_base']) {
  const enc = get_encoding(name);
  for (const b of bytes) {
    const text = decoder.decode(b);
    out.push({
      encoding: name,
      bytes: b.toString('hex'),
      ordinary: Array.from(enc.encode_ordinary(text)),
      all_special: Array.from(enc.encode(text, 'all')),
    });
  }
  enc.free();
}
process.stdout.write(JSON.stringify({ generator: 'tiktoken@1.0.22 (npm)', cases: out }) + '\n');
