// Runs appserver/static/claw_review.js under node with small stand-ins for what Splunk Web gives it
// (require, jQuery, splunk.util, splunkjs/mvc), then plays a scenario read from argv[3] (JSON):
// {"select": key, "get": <GET answer>, "check": [scope fields to tick, or null to keep the defaults],
//  "reason": "...", "expires": "...", "click": "approve|reject|allowlist|revoke"}
// and prints the requests the script made: [{type, url, headers, data}].
'use strict';
const fs = require('fs');

const scenario = JSON.parse(process.argv[3]);
const requests = [];
const elements = {};
let clickHandler = null;

function El(tag, attrs) {
    this.tag = tag;
    this.attrs = attrs || {};
    this.children = [];
    this._text = '';
    this._val = '';
    this.checked = false;
    this.visible = true;
}
El.prototype.text = function (v) { if (v === undefined) { return this._text; } this._text = String(v); return this; };
El.prototype.css = function () { return this; };
El.prototype.val = function (v) {
    if (v === undefined) { return this._val; } this._val = v; return this;
};
El.prototype.prop = function (name, v) { if (name === 'checked') { this.checked = Boolean(v); } return this; };
El.prototype.toggle = function (v) { this.visible = Boolean(v); return this; };
El.prototype.append = function (child) { this.children.push(child); return this; };
El.prototype.attr = function (name) { return this.attrs[name]; };
El.prototype.find = function (sel) {
    const self = this;
    return {remove: function () { if (sel === 'label') { self.children = []; } }};
};
El.prototype.on = function (event, sel, handler) { if (event === 'click') { clickHandler = handler; } return this; };

function inputs(root, out) {
    (root.children || []).forEach(function (c) {
        if (c.tag === 'input') { out.push(c); }
        inputs(c, out);
    });
    return out;
}

function $(arg) {
    if (arg instanceof El) { return arg; }
    if (arg.charAt(0) === '#') {
        elements[arg] = elements[arg] || new El('div', {id: arg.slice(1)});
        return elements[arg];
    }
    if (arg.indexOf('<label') === 0) { return new El('label'); }
    if (arg.indexOf('<input') === 0) { return new El('input'); }
    if (arg === 'input[name=claw-review-scope]:checked') {
        const checked = inputs($('#claw-review-scope'), []).filter(function (i) { return i.checked; });
        return {map: function (fn) {
            const values = checked.map(function (i) { return fn.call(i); });
            return {get: function () { return values; }};
        }};
    }
    throw new Error('harness: unexpected selector ' + arg);
}
$.each = function (list, fn) { (list || []).forEach(function (v, i) { fn(i, v); }); };
$.inArray = function (v, list) { return list.indexOf(v); };
$.ajax = function (options) {
    const request = {type: options.type, url: options.url, headers: options.headers || {},
                     data: options.data ? JSON.parse(options.data) : null, contentType: options.contentType};
    requests.push(request);
    const promise = {done: function (cb) { request.done = cb; return promise; },
                     fail: function (cb) { request.fail = cb; return promise; }};
    return promise;
};

global.document = {createTextNode: function (t) { return {tag: '#text', text: t}; }};
const tokens = {unset: function () {}, on: function (event, fn) { tokens.change = fn; }};
const splunkUtil = {make_url: function (p) { return '/en-US' + p; }, getFormKey: function () { return 'FORM-KEY-1'; }};
const mvc = {Components: {get: function () { return tokens; }}};
global.require = function (deps, fn) { fn($, splunkUtil, mvc); };

new Function('require', fs.readFileSync(process.argv[2], 'utf8'))(global.require);

tokens.change(null, scenario.select);
requests[0].done(scenario.get);
if (scenario.check) {
    inputs($('#claw-review-scope'), []).forEach(function (i) { i.checked = scenario.check.indexOf(i._val) >= 0; });
}
$('#claw-review-reason').val(scenario.reason || '');
$('#claw-review-expires').val(scenario.expires || '');
clickHandler.call(new El('button', {'data-decision': scenario.click}), {preventDefault: function () {}});
const shown = {revoke_visible: $('#claw-review-revoke').visible, selected: $('#claw-review-selected').text(),
               scope: inputs($('#claw-review-scope'), []).map(function (i) { return [i._val, i.checked]; })};
process.stdout.write(JSON.stringify({requests: requests.map(function (r) {
    return {type: r.type, url: r.url, headers: r.headers, data: r.data, contentType: r.contentType};
}), shown: shown}));
