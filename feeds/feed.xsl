<?xml version="1.0" encoding="UTF-8"?>
<!-- feedpub: shows an RSS 2.0 or Atom 1.0 feed as a web page in browsers with XSLT.
     Feed readers ignore it; the feed's HTML page is the fallback without XSLT. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
<xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat"/>

<xsl:variable name="rss" select="/rss/channel"/>
<xsl:variable name="atom" select="/atom:feed"/>

<xsl:template match="/">
<xsl:variable name="title" select="normalize-space($rss/title | $atom/atom:title)"/>
<xsl:variable name="home" select="$rss/link | $atom/atom:link[@rel='alternate']/@href"/>
<html lang="{$rss/language | $atom/@xml:lang}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="$title"/></title>
<style>
:root { --fp-text: #1b1b1b; --fp-muted: #595959; --fp-accent: #0b5394; --fp-bg: #fff; --fp-rule: #ddd; }
body { font: 1rem/1.55 system-ui, sans-serif; color: var(--fp-text); background: var(--fp-bg); max-width: 46rem; margin: 0 auto; padding: 1rem; overflow-wrap: anywhere; }
a { color: var(--fp-accent); }
a:focus-visible, input:focus-visible { outline: 3px solid var(--fp-accent); outline-offset: 2px; }
header p, .meta { color: var(--fp-muted); }
.note { border: 1px solid var(--fp-rule); padding: .5rem .75rem; color: var(--fp-text); }
article { border-top: 1px solid var(--fp-rule); padding: .5rem 0; }
h2 { font-size: 1.15rem; margin: .4rem 0; }
label { display: block; font-size: .9rem; }
input { width: 100%; max-width: 36rem; box-sizing: border-box; font: inherit; font-size: .9rem; padding: .2rem .3rem; }
</style>
</head>
<body>
<header>
<p class="note">Dies ist ein Newsfeed. Kopieren Sie seine Adresse in Ihren Feedreader, um neue Meldungen automatisch zu erhalten.</p>
<h1><xsl:value-of select="$title"/></h1>
<p><xsl:value-of select="$rss/description | $atom/atom:subtitle"/></p>
<p><label for="feed-url">Feed-Adresse zum Kopieren</label>
<input id="feed-url" type="url" readonly="readonly" value="{($rss | $atom)/atom:link[@rel='self']/@href}"/></p>
<p><a href="{$home}">Die Meldungen als Webseite</a></p>
</header>
<main>
<xsl:apply-templates select="$rss/item | $atom/atom:entry"/>
</main>
</body>
</html>
</xsl:template>

<xsl:template match="item">
<!-- RFC 822 as feedgen writes it: "Wed, 16 Sep 2020 14:00:00 +0200" -->
<xsl:variable name="month" select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', substring(pubDate, 9, 3))) div 3 + 1"/>
<xsl:call-template name="entry">
<xsl:with-param name="title" select="title"/>
<xsl:with-param name="link" select="link"/>
<xsl:with-param name="year" select="substring(pubDate, 13, 4)"/>
<xsl:with-param name="month" select="format-number($month, '00')"/>
<xsl:with-param name="day" select="substring(pubDate, 6, 2)"/>
<xsl:with-param name="text" select="''"/>
</xsl:call-template>
</xsl:template>

<xsl:template match="atom:entry">
<xsl:call-template name="entry">
<xsl:with-param name="title" select="atom:title"/>
<xsl:with-param name="link" select="atom:link[not(@rel) or @rel='alternate']/@href"/>
<xsl:with-param name="year" select="substring(atom:published, 1, 4)"/>
<xsl:with-param name="month" select="substring(atom:published, 6, 2)"/>
<xsl:with-param name="day" select="substring(atom:published, 9, 2)"/>
<xsl:with-param name="text" select="atom:summary"/>
</xsl:call-template>
</xsl:template>

<xsl:template name="entry">
<xsl:param name="title"/>
<xsl:param name="link"/>
<xsl:param name="year"/>
<xsl:param name="month"/>
<xsl:param name="day"/>
<xsl:param name="text"/>
<article>
<h2><a href="{$link}"><xsl:value-of select="$title"/></a></h2>
<p class="meta"><time datetime="{$year}-{$month}-{$day}"><xsl:value-of select="concat($day, '.', $month, '.', $year)"/></time></p>
<xsl:if test="string($text) and string($text) != string($title)">
<p><xsl:value-of select="$text"/></p>
</xsl:if>
</article>
</xsl:template>
</xsl:stylesheet>
