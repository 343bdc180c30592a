import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import '../test/vscode-mock';

describe('what browsing shows', () => {
  it('renders documents as valid relaxed Extended JSON, with characters that reorder text escaped the JSON way', async () => {
    const { renderDocuments } = await import('./documents-format');
    const id = new ObjectId('6650f0c2a1b2c3d4e5f60718');
    const text = renderDocuments([{ _id: id, at: new Date('2026-01-01T00:00:00Z'), n: 3, name: 'evil\u202egpj.exe', esc: '\x1b[2J' }]);
    assert.equal(
      text,
      '[\n  {\n    "_id": {\n      "$oid": "6650f0c2a1b2c3d4e5f60718"\n    },\n    "at": {\n      "$date": "2026-01-01T00:00:00Z"\n    },\n    "n": 3,\n    "name": "evil\\u202egpj.exe",\n    "esc": "\\u001b[2J"\n  }\n]\n',
    );
    assert.equal(JSON.parse(text)[0].name, 'evil\u202egpj.exe', 'the escapes parse back to the data');
    assert.equal(renderDocuments([]), '[]\n');
  });

  it('offers the connection string as it is, and with directConnection for Compass and MongoDB for VS Code', async () => {
    const { connectionStringFor } = await import('./connection-string-formats');
    const uri = 'mongodb://127.0.0.1:41617/';
    assert.equal(connectionStringFor(uri, 'plain'), uri);
    assert.equal(connectionStringFor(uri, 'compass'), 'mongodb://127.0.0.1:41617/?directConnection=true');
    assert.equal(connectionStringFor(uri, 'mongodbVscode'), 'mongodb://127.0.0.1:41617/?directConnection=true');
    assert.equal(
      connectionStringFor('mongodb://127.0.0.1:1/?directConnection=false', 'compass'),
      'mongodb://127.0.0.1:1/?directConnection=true',
    );
  });

  it('gives browse nodes ids that no name can make collide, and escapes names in labels', async () => {
    const { browseId } = await import('./browse-ids');
    assert.notEqual(browseId('ses_1', 'a:b', 'c'), browseId('ses_1', 'a', 'b:c'));
    assert.equal(browseId('ses_1', 'shop', 'items'), 'browse:ses_1:shop:items');
    const { indexKeyText } = await import('./index-tree-item');
    assert.equal(indexKeyText({ sku: 1, at: -1 }), '{ sku: 1, at: -1 }');
    assert.equal(indexKeyText({ 'bad\u202e': 'text' }), '{ bad\\u202e: "text" }');
    const { formatBytes } = await import('./database-tree-item');
    assert.deepEqual([formatBytes(512), formatBytes(8192), formatBytes(5 * 1024 * 1024 * 1024)], ['512 B', '8.0 KB', '5.0 GB']);
    const { documentCount } = await import('./collection-tree-item');
    assert.deepEqual([documentCount(0), documentCount(1), documentCount(12345)], ['0 documents', '1 document', '12,345 documents']);
  });
});

describe('the browse entries of package.json', () => {
  it('offer Open Documents on collections and views only, and Load More Documents only on a collection’s document', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const itemMenus = manifest.contributes.menus['view/item/context'] as Array<{ command: string; when: string }>;
    const offered = (contextValue: string) =>
      itemMenus
        .filter((entry) => {
          const regex = entry.when.match(/viewItem =~ \/(.+?)\/(?:\s|$)/);
          const exact = entry.when.match(/viewItem == ([\w.]+)/);
          return regex ? new RegExp(regex[1]).test(contextValue) : exact?.[1] === contextValue;
        })
        .map((entry) => entry.command);
    assert.deepEqual(offered('browse.collection'), ['portcullis.openCollection', 'portcullis.openCollection']);
    assert.deepEqual(offered('browse.view'), ['portcullis.openCollection', 'portcullis.openCollection']);
    for (const other of ['browse.database', 'browse.index', 'browse.error', 'browse.empty']) assert.deepEqual(offered(other), [], other);
    const title = manifest.contributes.menus['editor/title'] as Array<{ command: string; when: string }>;
    assert.deepEqual(title, [
      { command: 'portcullis.loadMoreDocuments', when: 'resourceScheme == portcullis-browse', group: 'navigation' },
    ]);
    const { BROWSE_SCHEME } = await import('./collection-documents-provider');
    assert.equal(BROWSE_SCHEME, 'portcullis-browse');
  });
});
