// Dev-only (never shipped): renders window.CLAW_RENDER.definition, a Dashboard Studio
// definition whose data sources are ds.test, with Splunk's renderer, then writes what
// each panel shows into <pre id="claw-render-report"> (JSON) for the Python test.
// A missing data source logs nothing and only shows a placeholder, so the report reads
// the page: messages, placeholders, table rows, chart points, single values, text.
import React from 'react';
import { createRoot } from 'react-dom/client';
import DashboardCore from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterpriseViewOnlyPreset from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';
import SplunkThemeProvider from '@splunk/themes/SplunkThemeProvider';

const { definition, theme, settleMs, click } = window.CLAW_RENDER;
document.body.style.margin = '0';
document.body.style.background = theme === 'dark' ? '#0b0c0e' : '#f2f4f5';

const texts = (root, selector) => Array.from(root.querySelectorAll(selector)).map((n) => n.textContent.trim());

function panelReport(id) {
    const item = document.querySelector(`[data-test="viz-item"][data-id="${id}"]`);
    if (!item) {
        return { id, found: false };
    }
    return {
        id,
        found: true,
        type: item.getAttribute('data-viz-type'),
        messages: texts(item, '[data-test="dashboard-message"], [data-test="message"]'),
        placeholder: item.querySelectorAll('[data-test="icon-placeholder"]').length > 0,
        tableRows: item.querySelectorAll('[data-test="main-table"] tbody [data-test="row"]').length,
        chartPoints: item.querySelectorAll('.highcharts-point').length,
        majorValue: texts(item, '[data-test="majorValue"]').join(' '),
        text: item.textContent.trim().slice(0, 400),
    };
}

function report() {
    const panels = Object.keys(definition.visualizations || {}).sort().map(panelReport);
    const pre = document.createElement('pre');
    pre.id = 'claw-render-report';
    pre.style.display = 'none';
    pre.textContent = JSON.stringify({ panels });
    document.body.appendChild(pre);
}

createRoot(document.getElementById('root')).render(
    <SplunkThemeProvider family="enterprise" colorScheme={theme} density="comfortable">
        <DashboardContextProvider initialDefinition={definition} preset={EnterpriseViewOnlyPreset}>
            <DashboardCore width="100%" height="auto" />
        </DashboardContextProvider>
    </SplunkThemeProvider>
);
// With `click` ({viz, row}), click the first cell of that table row once the page has
// settled, then report (the tokens the click sets show in panels that print them).
function clickRow() {
    const rows = document.querySelectorAll(
        `[data-test="viz-item"][data-id="${click.viz}"] [data-test="main-table"] tbody [data-test="row"]`
    );
    const cell = rows[click.row] && rows[click.row].querySelector('td');
    if (cell) {
        cell.click();
    }
    setTimeout(report, settleMs || 5000);
}

setTimeout(click ? clickRow : report, settleMs || 5000);
