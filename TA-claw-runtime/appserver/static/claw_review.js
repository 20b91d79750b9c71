/*
 * Claw Policy Proposals: the decision buttons.
 *
 * A decision is made only by a click on Approve, Reject or Allowlist: each
 * click sends one POST to the add-on's review endpoint through Splunk Web
 * (/splunkd/__raw/services/claw/review), with Splunk Web's CSRF header
 * X-Splunk-Form-Key. Nothing is sent when the page loads, and the proposal
 * selected by a URL is cleared on load. Values are shown with .text(),
 * never as HTML.
 */
require([
    'jquery',
    'splunk.util',
    'splunkjs/mvc',
    'splunkjs/mvc/simplexml/ready!'
], function ($, splunkUtil, mvc) {
    'use strict';

    var KEY_RE = /^[0-9a-f]{64}$/;
    var tokens = mvc.Components.get('default');
    var selected = null;

    function endpoint(query) {
        return splunkUtil.make_url('/splunkd/__raw/services/claw/review') + '?output_mode=json' + (query || '');
    }

    function formKey() {
        var match = document.cookie.match(/(?:^|;\s*)splunkweb_csrf_token_\d+=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : '';
    }

    function say(text, ok) {
        $('#claw-review-result').text(text).css('color', ok ? '' : '#b00');
    }

    function errorOf(xhr) {
        var body = xhr.responseJSON || {};
        return 'HTTP ' + xhr.status + ': ' + (body.error || xhr.statusText || 'request failed');
    }

    function showScope(fields) {
        var box = $('#claw-review-scope');
        box.find('label').remove();
        $.each(fields || [], function (_, name) {
            var label = $('<label/>');
            label.append($('<input type="checkbox" name="claw-review-scope"/>').val(name));
            label.append(document.createTextNode(' ' + name + ' '));
            box.append(label);
        });
    }

    function select(key) {
        selected = null;
        $('#claw-review-proposal').text('');
        showScope([]);
        if (!KEY_RE.test(key || '')) {
            $('#claw-review-selected').text('No proposal selected: click a row above.');
            return;
        }
        $.ajax({url: endpoint('&key=' + key), type: 'GET', dataType: 'json'})
            .done(function (answer) {
                selected = key;
                $('#claw-review-selected').text('Proposal ' + key + ' (' + answer.status + ')' +
                    (answer.decision ? ': decided ' + answer.decision.decision + ' by ' + answer.decision.reviewed_by +
                        (answer.complete ? '' : ' (incomplete: press the same button again to complete it)') : ''));
                $('#claw-review-proposal').text(JSON.stringify(answer.proposal, null, 2));
                showScope(answer.scope_fields);
            })
            .fail(function (xhr) { say(errorOf(xhr), false); });
    }

    function decide(decision) {
        if (!selected) {
            say('Select a proposal first.', false);
            return;
        }
        var body = {key: selected, decision: decision, reason: $('#claw-review-reason').val()};
        var scope = $('input[name=claw-review-scope]:checked').map(function () { return $(this).val(); }).get();
        // reject never writes a row; approve writes one only for an "allowlist" proposal
        if (decision === 'allowlist' || (decision === 'approve' && (scope.length || $('#claw-review-expires').val()))) {
            body.expires = $('#claw-review-expires').val();
            body.scope = scope;
        }
        $.ajax({
            url: endpoint(''),
            type: 'POST',
            contentType: 'application/json',
            data: JSON.stringify(body),
            dataType: 'json',
            headers: {'X-Splunk-Form-Key': formKey(), 'X-Requested-With': 'XMLHttpRequest'}
        }).done(function (answer) {
            say(answer.status + ' by ' + answer.reviewed_by + ' at ' + answer.reviewed_at, true);
            select(selected);
        }).fail(function (xhr) { say(errorOf(xhr), false); });
    }

    tokens.unset('selected_key');
    tokens.on('change:selected_key', function (model, value) { select(value); });
    $('#claw-review').on('click', 'button[data-decision]', function (event) {
        event.preventDefault();
        decide($(this).attr('data-decision'));
    });
});
