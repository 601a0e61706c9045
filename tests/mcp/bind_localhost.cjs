// SPDX-License-Identifier: AGPL-3.0-or-later
// Preloaded (node --require) by the interop tests: reference MCP servers call
// app.listen(PORT) on all interfaces; this makes every listen without a host
// bind 127.0.0.1 only, so tests never expose a port beyond loopback.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
    const a0 = args[0];
    if (typeof a0 === 'number' || (typeof a0 === 'string' && /^\d+$/.test(a0))) {
        if (typeof args[1] !== 'string')
            args.splice(1, 0, '127.0.0.1');
    } else if (a0 && typeof a0 === 'object' && !a0.path && !a0.host) {
        args[0] = Object.assign({}, a0, { host: '127.0.0.1' });
    }
    return listen.apply(this, args);
};
