// SPDX-License-Identifier: AGPL-3.0-or-later
// The @openai/agents side of bench/coldstart.sh: one process = one cold start
// of the SDK plus a one-turn agent run against fakellm (Chat Completions wire,
// OPENAI_BASE_URL), printing the final answer. Tracing is off so that nothing
// leaves the machine. Run with the Node 22 binary from .deps (scripts/deps-npm.sh):
//   OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=x AGC_DEPS=.deps node bench/openai_agents_bench.mjs
import { createRequire } from 'node:module';
import path from 'node:path';

const deps = path.resolve(process.env.AGC_DEPS || '.deps');
const require = createRequire(path.join(deps, 'package.json'));
const { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } =
    require('@openai/agents');
const { OpenAI } = require('openai');

setTracingDisabled(true);
setOpenAIAPI('chat_completions');
setDefaultOpenAIClient(new OpenAI({
    baseURL: process.env.OPENAI_BASE_URL,
    apiKey: process.env.OPENAI_API_KEY || 'sk-bench-dummy',
    maxRetries: 0,
}));

const agent = new Agent({
    name: 'bench',
    instructions: 'Answer in one short sentence.',
    model: process.env.AGC_BENCH_MODEL || 'gpt-4o-mini',
});
const result = await run(agent, process.argv[2] || 'Say hello.');
process.stdout.write(String(result.finalOutput) + '\n');
