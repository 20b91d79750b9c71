/*
 * Claw Policy Proposals: the decision buttons.
 *
 * A decision is made only by a click on Approve, Reject, Allowlist or Revoke:
 * each click sends one POST to the add-on's review endpoint through Splunk Web
 * (/splunkd/__raw/services/claw/review), with Splunk Web's CSRF header
 * X-Splunk-Form-Key from splunkUtil.getFormKey(). A decision names the
 * fingerprint of the proposal as it is shown (seen): if the alert action
 * changed the proposal since, the endpoint answers 409 and the panel reloads
 * it. Revoke (claw_admin) names the revision of the decision shown. Nothing
 * is sent when the page loads, and the proposal selected by a URL is cleared
 * on load. Values are shown with .text(), never as HTML.
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

    function say(text, ok) {
        $('#claw-review-result').text(text).css('color', ok ? '' : '#b00');
    }

    function errorOf(xhr) {
        var body = xhr.responseJSON || {};
        return 'HTTP ' + xhr.status + ': ' + (body.error || xhr.statusText || 'request failed');
    }

    function showScope(fields, checked) {
        var box = $('#claw-review-scope');
        box.find('label').remove();
        $.each(fields || [], function (_, name) {
            var label = $('<label/>');
            var input = $('<input type="checkbox" name="claw-review-scope"/>').val(name);
            input.prop('checked', $.inArray(name, checked || []) >= 0);
            label.append(input);
            label.append(document.createTextNode(' ' + name + ' '));
            box.append(label);
        });
    }

    function describe(answer) {
        var text = 'Proposal ' + answer.key + ' (' + answer.status + ')';
        var decision = answer.decision;
        if (decision && decision.state === 'awaiting_second') {
            text += ': approved by ' + decision.reviewed_by + ', awaiting a second reviewer (another user approves)';
        } else if (decision && decision.state === 'revoked') {
            text += ': ' + decision.decision + ' by ' + decision.reviewed_by + ' was revoked by ' + decision.revoked_by;
        } else if (decision) {
            text += ': decided ' + decision.decision + ' by ' + decision.reviewed_by + ' (revision ' +
                answer.revision + ')' + (answer.complete ? '' : ' (incomplete: press the same button again to complete it)');
            if (answer.allowlist_row === 'missing' || answer.allowlist_row === 'expired') {
                text += ': its allowlist row is ' + answer.allowlist_row + '; revoke, then decide again';
            }
        }
        if (answer.uncommitted) {
            text += ': a ' + answer.uncommitted.decision + ' by ' + answer.uncommitted.reviewed_by +
                ' was committed but not completed: the same decision again completes it';
        }
        return text;
    }

    function select(key) {
        selected = null;
        $('#claw-review-proposal').text('');
        showScope([], []);
        if (!KEY_RE.test(key || '')) {
            $('#claw-review-selected').text('No proposal selected: click a row above.');
            return;
        }
        $.ajax({url: endpoint('&key=' + key), type: 'GET', dataType: 'json'})
            .done(function (answer) {
                selected = {key: key, seen: answer.fingerprint, revision: answer.revision,
                            writesRow: answer.proposal.change.action === 'allowlist'};
                $('#claw-review-selected').text(describe(answer));
                $('#claw-review-proposal').text(JSON.stringify(answer.proposal, null, 2));
                showScope(answer.scope_fields, answer.scope_default);
                $('#claw-review-revoke').toggle(Boolean(answer.can_revoke && answer.decision &&
                                                        answer.decision.state !== 'revoked'));
            })
            .fail(function (xhr) { say(errorOf(xhr), false); });
    }

    function decide(decision) {
        if (!selected) {
            say('Select a proposal first.', false);
            return;
        }
        var body = {key: selected.key, decision: decision, reason: $('#claw-review-reason').val()};
        var scope = $('input[name=claw-review-scope]:checked').map(function () { return $(this).val(); }).get();
        if (decision === 'revoke') {
            body.revision = selected.revision;
        } else {
            body.seen = selected.seen;
        }
        // reject never writes a row; approve writes one only for an "allowlist" proposal
        if (decision === 'allowlist' || (decision === 'approve' && selected.writesRow)) {
            body.expires = $('#claw-review-expires').val();
            if (scope.length) {
                body.scope = scope;  // none checked: the endpoint pins the proposal's digests
            }
        }
        $.ajax({
            url: endpoint(''),
            type: 'POST',
            contentType: 'application/json',
            data: JSON.stringify(body),
            dataType: 'json',
            headers: {'X-Splunk-Form-Key': splunkUtil.getFormKey(), 'X-Requested-With': 'XMLHttpRequest'}
        }).done(function (answer) {
            say(answer.state === 'revoked' ? 'revoked by ' + answer.revoked_by :
                answer.status + ' by ' + answer.reviewed_by + ' at ' + answer.reviewed_at, true);
            select(selected.key);
        }).fail(function (xhr) {
            say(errorOf(xhr), false);
            if (xhr.status === 409) {
                select(selected.key);  // changed or decided meanwhile: show what it is now
            }
        });
    }

    tokens.unset('selected_key');
    tokens.on('change:selected_key', function (model, value) { select(value); });
    $('#claw-review').on('click', 'button[data-decision]', function (event) {
        event.preventDefault();
        decide($(this).attr('data-decision'));
    });
});
